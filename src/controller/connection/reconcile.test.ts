import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../../api/apikey.ts';
import { apiKeyObject } from '../fakes.test-support.ts';
import { rancherDescription } from '../marker.ts';
import { connectionWorld } from '../reconcile-fakes.test-support.ts';
import { NOT_READY_RECHECK_MS } from './plan.ts';
import { reconcileConnection } from './reconcile.ts';

const ID = { kind: 'RancherConnection' as const, namespace: 'team-b', name: 'rancher' };
const conn = (over: Record<string, unknown> = {}) => ({
  metadata: { name: 'rancher', namespace: 'team-b', uid: 'c1', generation: 1 },
  spec: { url: 'https://rancher.test', credentialsSecretRef: { name: 'creds' }, ...over },
});

/** GONE_MARKER is the description the operator wrote for team-b/gone, an ApiKey that no longer exists. */
const GONE_MARKER = rancherDescription(
  ApiKeySchema.parse(
    apiKeyObject({
      metadata: { uid: 'bbbbbbbb-0000-4000-8000-000000000002', name: 'gone', namespace: 'team-b' },
    }),
  ),
);

function setUp(spec: Record<string, unknown> = {}, apiKeys: KubernetesObject[] = []) {
  const w = connectionWorld(apiKeys);
  w.connections.set('team-b', 'rancher', conn(spec));
  return w;
}

describe('reconcileConnection', () => {
  it('a working connection reports whose credentials they are, once, and is checked again at the interval', async () => {
    const w = setUp();
    expect(await reconcileConnection(ID, w.deps)).toEqual({ kind: 'done', requeueAfterMs: 600_000 });
    expect(w.resolver.resolves[0]?.opts).toEqual({ anyNamespace: true });
    const [status] = w.resources.statusWrites();
    expect(status).toMatchObject({ accountId: '1a1', accountKind: 'admin', canSupplyValues: true });
    w.connections.set('team-b', 'rancher', { ...conn(), status });
    await reconcileConnection(ID, w.deps);
    expect(w.resources.statusWrites()).toHaveLength(1);
  });

  it('a connection that does not work is checked again within seconds and reports why, never as a retry', async () => {
    const w = setUp();
    w.resolver.resolved = {
      view: { ok: false, reason: 'URLNotAllowed', message: 'outside', terminal: true },
    };
    expect(await reconcileConnection(ID, w.deps)).toEqual({
      kind: 'done',
      requeueAfterMs: NOT_READY_RECHECK_MS,
    });
    expect(w.resources.statusWrites()[0]).toMatchObject({
      conditions: [
        { type: 'Ready', status: 'False', reason: 'URLNotAllowed' },
        { type: 'Stalled', status: 'True', reason: 'URLNotAllowed' },
      ],
    });
    expect(w.rancher.calls).toEqual([]);
  });

  it('a connection that is not usable yet says Reconciling, so kstatus (Flux wait) keeps waiting', async () => {
    const w = setUp();
    w.resolver.resolved = {
      view: { ok: false, reason: 'CredentialsNotFound', message: 'no Secret yet', terminal: false },
    };
    await reconcileConnection(ID, w.deps);
    expect(w.resources.statusWrites()[0]).toMatchObject({
      conditions: [
        { type: 'Ready', status: 'False', reason: 'CredentialsNotFound' },
        { type: 'Reconciling', status: 'True', reason: 'CredentialsNotFound' },
      ],
    });
  });

  it('an orphaned key is reported with a Warning and left alone without orphanPolicy Delete', async () => {
    const w = setUp();
    const key = w.rancher.seed({ description: GONE_MARKER });
    await reconcileConnection(ID, w.deps);
    expect(w.resources.statusWrites()[0]).toMatchObject({ orphans: { count: 1, keys: [{ id: key.id }] } });
    expect(w.events.reasons()).toEqual(['OrphanKeysFound']);
    expect(w.rancher.peek(key.id)?.state).toBe('active');
  });

  it('with orphanPolicy Delete an orphan is retired and the connection looks again within a second', async () => {
    const w = setUp({ orphanPolicy: 'Delete' });
    const key = w.rancher.seed({ description: GONE_MARKER });
    expect(await reconcileConnection(ID, w.deps)).toEqual({ kind: 'done', requeueAfterMs: 1_000 });
    expect(w.rancher.peek(key.id)?.state).toBe('inactive');
  });

  it('a Rancher failure while listing is retried with backoff, with no write', async () => {
    const w = setUp();
    w.rancher.failNext('listKeys');
    expect((await reconcileConnection(ID, w.deps)).kind).toBe('retry');
    expect(w.journal.writes).toEqual([]);
  });

  it('a connection that is gone is done without a call', async () => {
    const w = setUp();
    w.connections.objects.clear();
    expect(await reconcileConnection(ID, w.deps)).toEqual({ kind: 'done' });
    expect(w.resolver.resolves).toEqual([]);
  });
});
