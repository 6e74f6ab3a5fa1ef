import { describe, expect, it } from 'vitest';
import { imagesOf } from '../../../src/cli/controller-command.js';
import { drillImageOf } from '../../../src/render/index.js';

describe('drillImageOf', () => {
  it.each([
    ['pgbackup-operator:1.2.0', 'pgbackup-operator:1.2.0-drill'],
    ['ghcr.io/acme/pgbackup-operator:1.2.0', 'ghcr.io/acme/pgbackup-operator:1.2.0-drill'],
    ['registry.local:5000/pgbackup-operator', 'registry.local:5000/pgbackup-operator:latest-drill'],
    [
      'registry.local:5000/pgbackup-operator:dev',
      'registry.local:5000/pgbackup-operator:dev-drill',
    ],
    ['pgbackup-operator', 'pgbackup-operator:latest-drill'],
  ])('%s → %s', (image, drill) => {
    expect(drillImageOf(image)).toBe(drill);
  });

  it('derives nothing from an image named by digest', () => {
    expect(drillImageOf(`pgbackup-operator@sha256:${'a'.repeat(64)}`)).toBeUndefined();
  });
});

describe("the controller's images", () => {
  const none = { runnerImage: undefined, verifyImage: undefined };

  it('drills with the runner image\'s "-drill" sibling unless told otherwise', () => {
    expect(imagesOf({ ...none, runnerImage: 'op:1.2.0' }, {})).toEqual({
      defaultImage: 'op:1.2.0',
      verifyImage: 'op:1.2.0-drill',
    });
    expect(imagesOf(none, { PGBACKUP_RUNNER_IMAGE: 'op:2' })).toEqual({
      defaultImage: 'op:2',
      verifyImage: 'op:2-drill',
    });
  });

  it('takes --verify-image, then $PGBACKUP_VERIFY_IMAGE', () => {
    expect(imagesOf({ runnerImage: 'op:1', verifyImage: 'drill:9' }, {})).toEqual({
      defaultImage: 'op:1',
      verifyImage: 'drill:9',
    });
    expect(imagesOf(none, { PGBACKUP_VERIFY_IMAGE: 'drill:8' }).verifyImage).toBe('drill:8');
  });

  it('falls back to the runner image when it is named by digest', () => {
    const pinned = `op@sha256:${'b'.repeat(64)}`;
    expect(imagesOf({ ...none, runnerImage: pinned }, {}).verifyImage).toBe(pinned);
  });
});
