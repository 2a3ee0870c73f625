import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createHandlers } from './handlers.ts';

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
    const queued: string[] = [];
    const h = createHandlers(
      (k) => queued.push(k),
      () => keys,
    );
    h.connection({
      metadata: { namespace: 'team-b', name: 'rancher' },
      status: { conditions: [] },
    } as KubernetesObject);
    expect(queued).toEqual(['RancherConnection:team-b/rancher', 'team-b/stalled', 'team-b/ready']);
  });

  it('a ClusterRancherConnection change queues every ApiKey that uses it, in any namespace', () => {
    const queued: string[] = [];
    const h = createHandlers(
      (k) => queued.push(k),
      () => keys,
    );
    h.clusterConnection({ metadata: { name: 'shared' } } as KubernetesObject);
    expect(queued).toEqual(['ClusterRancherConnection:/shared', 'team-a/shared-a', 'team-b/shared-b']);
  });

  it('an owned Secret queues its ApiKey; any other Secret queues nothing', () => {
    const queued: string[] = [];
    const h = createHandlers(
      (k) => queued.push(k),
      () => keys,
    );
    h.secret({
      metadata: {
        namespace: 'team-b',
        name: 's',
        ownerReferences: [{ apiVersion: 'x', kind: 'ApiKey', name: 'ready', uid: 'u', controller: true }],
      },
    } as KubernetesObject);
    h.secret({ metadata: { namespace: 'team-b', name: 'creds' } } as KubernetesObject);
    expect(queued).toEqual(['team-b/ready']);
  });
});
