import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  ContainerConfigError,
  type DataLookup,
  expandReferences,
  resolveContainerEnv,
} from '../../harness/executor/pod-env.js';

const pod: V1Pod = {
  metadata: {
    name: 'orders-binary-daily-1-abcde',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'x' },
  },
  spec: { nodeName: 'executor', serviceAccountName: 'orders-runner', containers: [] },
};

/** What the API server holds in namespace shop: Secrets and ConfigMaps by name. */
const objects: Record<string, Record<string, Record<string, string>>> = {
  Secret: { 'orders-superuser': { username: 'postgres', password: 's3cret' } },
  ConfigMap: { settings: { LEVEL: 'debug', MODE: 'fast' } },
};
const lookup: DataLookup = async (kind, name) => objects[kind]?.[name];

function container(fields: Partial<V1Container>): V1Container {
  return { name: 'runner', ...fields };
}

describe('a container environment as the kubelet builds it', () => {
  it('resolves secretKeyRef, configMapKeyRef and fieldRef values', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        env: [
          {
            name: 'PGUSER',
            valueFrom: { secretKeyRef: { name: 'orders-superuser', key: 'username' } },
          },
          {
            name: 'PGPASSWORD',
            valueFrom: { secretKeyRef: { name: 'orders-superuser', key: 'password' } },
          },
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        ],
      }),
      lookup,
    );
    expect(env).toEqual({
      PGUSER: 'postgres',
      PGPASSWORD: 's3cret',
      LEVEL: 'debug',
      POD: 'orders-binary-daily-1-abcde',
      APP: 'x',
      SA: 'orders-runner',
    });
  });

  it('takes envFrom first, with its prefix, and lets env override it', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'APP_' }],
        env: [{ name: 'APP_MODE', value: 'slow' }],
      }),
      lookup,
    );
    expect(env).toEqual({ APP_LEVEL: 'debug', APP_MODE: 'slow' });
  });

  it('expands $(VAR) references to earlier variables, keeps unknown ones and unescapes $$', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        env: [
          { name: 'HOST', value: 'db' },
          { name: 'URL', value: 'postgres://$(HOST)/$(LATER)?x=$$(HOST)' },
          { name: 'LATER', value: 'late' },
        ],
      }),
      lookup,
    );
    expect(env.URL).toBe('postgres://db/$(LATER)?x=$(HOST)');
    expect(expandReferences('$(A)-$(B)', { A: '1' })).toBe('1-$(B)');
  });

  it('skips a missing optional reference', async () => {
    const env = await resolveContainerEnv(
      pod,
      container({
        env: [
          {
            name: 'TOKEN',
            valueFrom: { secretKeyRef: { name: 'absent', key: 'token', optional: true } },
          },
        ],
      }),
      lookup,
    );
    expect(env).toEqual({});
  });

  it('names the missing Secret or key, so the pod waits with CreateContainerConfigError', async () => {
    const missingSecret = container({
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'orders-s3', key: 'accessKeyId' } } }],
    });
    await expect(resolveContainerEnv(pod, missingSecret, lookup)).rejects.toThrow(
      new ContainerConfigError('Secret shop/orders-s3 not found'),
    );
    const missingKey = container({
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'orders-superuser', key: 'token' } } }],
    });
    await expect(resolveContainerEnv(pod, missingKey, lookup)).rejects.toThrow(
      "couldn't find key token in Secret shop/orders-superuser",
    );
  });

  it('refuses a downward-API field it cannot know', async () => {
    const unsupported = container({
      env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } }],
    });
    await expect(resolveContainerEnv(pod, unsupported, lookup)).rejects.toThrow(
      'fieldRef "status.podIPs" is not supported by the local executor',
    );
  });
});
