import { describe, expect, it } from 'vitest';
import {
  APPLIED_HASH_ANNOTATION,
  containsDesired,
  isUpToDate,
  jsonEqual,
} from '../../../src/controller/index.js';
import { withAppliedHash } from '../../../src/controller/object-comparison.js';
import { resourceOfPath } from '../../../src/controller/request-resource.js';
import type { KubeObject } from '../../../src/kube/index.js';
import type { Manifest } from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const desired = withAppliedHash(fixtureYaml<Manifest>('controller/desired-cronjob.yaml'));
/** The same CronJob as an informer caches it: defaults added, no apiVersion or kind. */
const cached = fixtureYaml<KubeObject>('controller/cached-cronjob.yaml');
const withHash = (object: KubeObject, hash: string | undefined): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, annotations: { [APPLIED_HASH_ANNOTATION]: hash ?? '' } },
});

describe('compare before applying', () => {
  const hash = desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION];

  it('finds an object with defaults added by the server up to date', () => {
    expect(isUpToDate(desired, withHash(cached, hash))).toBe(true);
  });

  it('sees a field removed from the manifest by the digest', () => {
    expect(isUpToDate(desired, withHash(cached, 'an older digest'))).toBe(false);
  });

  it('sees a field changed by hand', () => {
    const edited = withHash(cached, hash);
    const spec = { ...(edited.spec as Record<string, unknown>), schedule: '0 0 * * *' };
    expect(isUpToDate(desired, { ...edited, spec })).toBe(false);
  });

  it('treats a missing object as out of date', () => {
    expect(isUpToDate(desired, undefined)).toBe(false);
  });

  it('matches int-or-string values the server returns as strings', () => {
    expect(containsDesired({ cpu: 1 }, { cpu: '1' })).toBe(true);
    expect(containsDesired([1, 2], [1])).toBe(false);
  });

  it('compares statuses ignoring key order and undefined fields', () => {
    expect(jsonEqual({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });

  it('labels requests by the resource of their path', () => {
    expect(resourceOfPath('/apis/batch/v1/namespaces/shop/cronjobs/orders-binary-daily')).toBe(
      'cronjobs',
    );
    expect(resourceOfPath('/api/v1/namespaces/shop/secrets/s3')).toBe('secrets');
    expect(resourceOfPath('/apis/coordination.k8s.io/v1/namespaces/ops/leases/x')).toBe('leases');
    expect(resourceOfPath('/apis/pgbackup.dev/v1alpha1/backuppolicies')).toBe('backuppolicies');
  });
});
