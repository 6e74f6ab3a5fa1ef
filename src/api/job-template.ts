import * as z from 'zod';
import { withRules } from './cross-field-rule.js';
import { closedObject, defaultToEmpty } from './fields.js';

/** A Kubernetes resource quantity written as a string, e.g. `500m`, `256Mi`, `1.5`. */
export const QUANTITY_PATTERN =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

const QUANTITY_MESSAGE = 'must be a quantity such as 500m, 256Mi or 2';

const quantity = z
  .union([z.int(), z.string().regex(QUANTITY_PATTERN, { error: QUANTITY_MESSAGE })], {
    error: QUANTITY_MESSAGE,
  })
  .meta({ 'x-kubernetes-int-or-string': true });

const resourceList = (description: string) =>
  z.record(z.string().min(1).max(253), quantity).optional().describe(description);

/** Requests and limits of a container. */
export const resourcesSchema = closedObject({
  requests: resourceList('Resources the runner is guaranteed, e.g. {cpu: 500m, memory: 256Mi}.'),
  limits: resourceList('Most the runner may use, e.g. {memory: 512Mi}.'),
})
  .default({})
  .describe('CPU and memory for the runner container.');

const toleration = withRules(
  closedObject({
    key: z
      .string()
      .max(317)
      .optional()
      .describe('Taint key the toleration applies to; empty with Exists: every taint.'),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .describe('Exists (any value) or Equal (the value below). Default Equal.'),
    value: z.string().max(63).optional().describe('Taint value, for Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe(
        'Taint effect to tolerate: NoSchedule, PreferNoSchedule or NoExecute. Omitted: all.',
      ),
    tolerationSeconds: z
      .int()
      .optional()
      .describe('For NoExecute: how long the pod stays bound after the taint appears.'),
  }),
  [
    {
      cel: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: 'must be empty when operator is Exists',
      field: ['value'],
      reason: 'FieldValueForbidden',
      check: (t) => t.operator !== 'Exists' || (t.value ?? '') === '',
    },
    {
      cel: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
      message: 'is only allowed with effect NoExecute',
      field: ['tolerationSeconds'],
      reason: 'FieldValueForbidden',
      check: (t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute',
    },
  ],
).describe('A toleration, as in a pod spec.');

/** Overrides for the Jobs the CronJobs start. */
export const jobTemplateSchema = defaultToEmpty(
  closedObject({
    image: z
      .string()
      .max(512)
      .default('')
      .describe("Runner image. Empty: the image of the operator's own release."),
    resources: resourcesSchema,
    nodeSelector: z
      .record(z.string().min(1).max(317), z.string().max(63))
      .default({})
      .describe('Labels a node must have to run backups.'),
    tolerations: z
      .array(toleration)
      .max(32)
      .default([])
      .describe('Taints of the nodes backups may run on.'),
  }),
).describe('Overrides for the pods that run backups.');
