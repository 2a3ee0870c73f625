import { describe, expect, it } from 'vitest';
import { servesConnection } from './sharding.ts';

const ns = { kind: 'RancherConnection', namespace: 'team', name: 'r' } as const;
const cluster = { kind: 'ClusterRancherConnection', namespace: '', name: 'shared' } as const;

describe('servesConnection', () => {
  it('all takes every connection, namespaced only RancherConnections, none nothing', () => {
    expect([servesConnection('all', ns), servesConnection('all', cluster)]).toEqual([true, true]);
    expect([servesConnection('namespaced', ns), servesConnection('namespaced', cluster)]).toEqual([
      true,
      false,
    ]);
    expect([servesConnection('none', ns), servesConnection('none', cluster)]).toEqual([false, false]);
  });
});
