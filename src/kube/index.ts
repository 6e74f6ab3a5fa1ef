/**
 * The Kubernetes adapter: an HTTPS client that counts its requests, informers that survive
 * real API servers, a de-duplicating work queue with backoff, server-side apply, Events and
 * leader election. Imports only `api` of ours.
 */

export { type BackoffPolicy, backoffDelayMs, DEFAULT_JITTER_RATIO } from './backoff.js';
export {
  type EventRecord,
  EventRecorder,
  type EventSubject,
  REPORTING_CONTROLLER,
} from './events.js';
export {
  type ChangeHandler,
  Informer,
  type InformerOptions,
  type ObjectCache,
} from './informer.js';
export {
  DEFAULT_RETRY_POLICY,
  isIdempotentRequest,
  KubeClient,
  type KubeClientOptions,
  type KubeRequest,
  type RequestVerb,
  type RetryPolicy,
  type WatchEvent,
  WRITE_VERBS,
} from './kube-client.js';
export {
  connectionOfKubeConfig,
  type KubeConfigLike,
  type KubeConnection,
  loadKubeConnection,
} from './kube-config.js';
export {
  isConflict,
  isGone,
  isNotFound,
  isTooManyRequests,
  isTransient,
  KubeApiError,
  KubeConnectionError,
  KubeRequestAbortedError,
} from './kube-errors.js';
export {
  controllerUidOf,
  type KubeObject,
  type ObjectOwnerReference,
  objectKeyOf,
  splitObjectKey,
} from './kube-object.js';
export {
  type LeaderElectionOptions,
  LeaderElector,
  type LeadershipHandler,
} from './leader-election.js';
export { MergedCache } from './merged-cache.js';
export { RESOURCES, type ResourceType, resourceOfKind, resourcePath } from './resource.js';
export {
  type ApplyManifest,
  applyManifest,
  applyStatus,
  deleteObject,
  FIELD_MANAGER,
  getObject,
} from './server-side-apply.js';
export { DEFAULT_QUEUE_BACKOFF, WorkQueue } from './work-queue.js';
