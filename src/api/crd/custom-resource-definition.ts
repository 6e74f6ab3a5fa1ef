import type * as z from 'zod';
import { GROUP, VERSION } from '../group-version.js';
import { type SchemaNode, toStructuralSchema } from './structural-schema.js';

/** A column of `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** What differs between the CRDs of this API. */
export interface ResourceDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

/** An `apiextensions.k8s.io/v1` CustomResourceDefinition, as far as we write one. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}

/** Every resource of this API is listed by `kubectl get pgbackup`. */
export const CATEGORY = 'pgbackup';

const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the resource was created.',
};

function openApiSchema(definition: ResourceDefinition): SchemaNode {
  return {
    description: definition.description,
    type: 'object',
    properties: {
      apiVersion: {
        description: `The versioned schema of this representation: ${GROUP}/${VERSION}.`,
        type: 'string',
      },
      kind: { description: `The kind of this resource: ${definition.kind}.`, type: 'string' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(definition.spec, 'spec'),
      status: toStructuralSchema(definition.status, 'status'),
    },
    required: ['spec'],
  };
}

/** Builds the CRD of one resource from its zod schemas. */
export function buildCustomResourceDefinition(
  definition: ResourceDefinition,
): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${definition.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'pgbackup-operator' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.singular,
        shortNames: definition.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...definition.printerColumns, AGE_COLUMN],
          schema: { openAPIV3Schema: openApiSchema(definition) },
        },
      ],
    },
  };
}
