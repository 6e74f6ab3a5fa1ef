/** The controller: the reconcile loop over BackupPolicies, composed from render and kube. */

export { Controller, type ControllerOptions } from './controller.js';
export { type ControllerMetrics, createControllerMetrics } from './controller-metrics.js';
export { type EndpointSources, type Endpoints, serveEndpoints } from './http-endpoints.js';
export {
  APPLIED_HASH_ANNOTATION,
  containsDesired,
  isUpToDate,
  jsonEqual,
} from './object-comparison.js';
export {
  type ControllerCaches,
  PolicyReconciler,
  type ReconcilerDeps,
} from './policy-reconciler.js';
export {
  hasLiveBinaryRun,
  type PolicySlotAccess,
  ReplicationSlotWatch,
  SLOT_FINALIZER,
  SLOT_RELEASE_AFTER_MS,
} from './replication-slots.js';
