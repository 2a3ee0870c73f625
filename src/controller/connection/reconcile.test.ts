import { describe, expect, it } from 'vitest';
import type { ResourceWriter } from '../../kube/resources.ts';
import { NOT_READY_RECHECK_MS, reconcileConnection } from './reconcile.ts';
import type { ConnectionRef, ConnectionResolver, Resolved } from './resolver.ts';

const conn = {
  metadata: { name: 'rancher', namespace: 'team-b', uid: 'c1', generation: 1 },
  spec: { url: 'https://rancher.example.com', credentialsSecretRef: { name: 'creds' } },
};

function run(resolved: Resolved) {
  const calls: { ref: ConnectionRef; opts: unknown }[] = [];
  const patches: unknown[] = [];
  const resolver: ConnectionResolver = {
    resolve: async (ref, opts) => {
      calls.push({ ref, opts });
      return resolved;
    },
    refFor: () => ({ kind: 'RancherConnection', name: 'x', namespace: 'y' }),
    invalidate: () => undefined,
  };
  const resources = {
    patchStatus: async (_p: unknown, _ns: unknown, _n: unknown, status: unknown) => {
      patches.push(status);
      return '2';
    },
  } as unknown as ResourceWriter;
  const result = reconcileConnection(
    { kind: 'RancherConnection', namespace: 'team-b', name: 'rancher' },
    {
      connections: { get: () => conn },
      clusterConnections: { get: () => undefined },
      resolver,
      resources,
      now: () => Date.parse('2030-01-01T00:00:00Z'),
      recheckMs: 600_000,
      apiKeys: { list: () => [] },
      watchNamespaces: [],
      events: { record: async () => undefined },
    },
  );
  return { result, calls, patches };
}

describe('reconcileConnection', () => {
  it('a connection that does not work is checked again within seconds and reports why', async () => {
    const { result, calls, patches } = run({
      view: { ok: false, reason: 'RancherUnauthorized', message: 'rejected', terminal: true },
    });
    expect(await result).toEqual({ kind: 'done', requeueAfterMs: NOT_READY_RECHECK_MS });
    expect(NOT_READY_RECHECK_MS).toBeLessThanOrEqual(5_000);
    expect(calls[0]?.opts).toEqual({ anyNamespace: true });
    expect(JSON.stringify(patches)).toContain('RancherUnauthorized');
  });

  it('a policy refusal such as URLNotAllowed becomes the Ready condition, never a retry loop', async () => {
    const { result, patches } = run({
      view: { ok: false, reason: 'URLNotAllowed', message: 'outside the allowed URLs', terminal: true },
    });
    expect((await result).kind).toBe('done');
    expect(JSON.stringify(patches)).toContain('URLNotAllowed');
  });
});
