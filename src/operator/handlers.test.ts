import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createHandlers } from './handlers.ts';

/** recorder returns an Enqueue that writes every key as text, the queue's kind first. */
function recorder() {
  const queued: string[] = [];
  return {
    queued,
    enqueue: {
      apiKey: (k: { namespace: string; name: string }) => queued.push(`ApiKey ${k.namespace}/${k.name}`),
      // A connection's ApiKeys must run even if their own objects did not change (see own-writes.ts).
      apiKeyDependency: (k: { namespace: string; name: string }) =>
        queued.push(`ApiKey ${k.namespace}/${k.name} (connection changed)`),
      connection: (c: { kind: string; namespace: string; name: string }) =>
        queued.push(`${c.kind} ${c.namespace}/${c.name}`),
    },
  };
}

const apiKey = (ns: string, name: string, connectionRef: Record<string, string>, stalled = false) =>
  ({
    metadata: { namespace: ns, name },
    spec: { connectionRef },
    status: stalled
      ? { conditions: [{ type: 'Stalled', status: 'True', reason: 'RancherUnauthorized' }] }
      : {},
  }) as KubernetesObject;

describe('createHandlers', () => {
  const keys = [
    apiKey('team-b', 'stalled', { name: 'rancher' }, true),
    apiKey('team-b', 'ready', { kind: 'RancherConnection', name: 'rancher' }),
    apiKey('team-a', 'same-name-elsewhere', { name: 'rancher' }),
    apiKey('team-a', 'shared-a', { kind: 'ClusterRancherConnection', name: 'shared' }, true),
    apiKey('team-b', 'shared-b', { kind: 'ClusterRancherConnection', name: 'shared' }),
  ];

  it('a RancherConnection change (a status write included) queues it and every ApiKey of its namespace using it, Stalled ones too', () => {
    const { queued, enqueue } = recorder();
    const h = createHandlers(enqueue, () => keys);
    h.connection({
      metadata: { namespace: 'team-b', name: 'rancher' },
      status: { conditions: [] },
    } as KubernetesObject);
    expect(queued).toEqual([
      'RancherConnection team-b/rancher',
      'ApiKey team-b/stalled (connection changed)',
      'ApiKey team-b/ready (connection changed)',
    ]);
  });

  it('a ClusterRancherConnection change queues every ApiKey that uses it, in any namespace', () => {
    const { queued, enqueue } = recorder();
    const h = createHandlers(enqueue, () => keys);
    h.clusterConnection({ metadata: { name: 'shared' } } as KubernetesObject);
    expect(queued).toEqual([
      'ClusterRancherConnection /shared',
      'ApiKey team-a/shared-a (connection changed)',
      'ApiKey team-b/shared-b (connection changed)',
    ]);
  });

  it('an owned Secret queues its ApiKey; any other Secret queues nothing', () => {
    const { queued, enqueue } = recorder();
    const h = createHandlers(enqueue, () => keys);
    h.secret({
      metadata: {
        namespace: 'team-b',
        name: 's',
        ownerReferences: [{ apiVersion: 'x', kind: 'ApiKey', name: 'ready', uid: 'u', controller: true }],
      },
    } as KubernetesObject);
    h.secret({ metadata: { namespace: 'team-b', name: 'creds' } } as KubernetesObject);
    expect(queued).toEqual(['ApiKey team-b/ready']);
  });

  it('an ApiKey whose connectionRef does not parse is not queued for any connection', () => {
    const { queued, enqueue } = recorder();
    const broken = [
      apiKey('team-b', 'bad-kind', { kind: 'SomethingElse', name: 'rancher' }),
      apiKey('team-b', 'no-name', {}),
    ];
    const h = createHandlers(enqueue, () => broken);
    h.connection({ metadata: { namespace: 'team-b', name: 'rancher' } } as KubernetesObject);
    expect(queued).toEqual(['RancherConnection team-b/rancher']);
  });
});
