import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { leaseApiFrom, leaseBody, parseLease } from './leader-election-lease-api.ts';

const record = {
  holderIdentity: 'op-1_ab12',
  leaseDurationSeconds: 15,
  acquireTime: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  renewTime: Date.UTC(2026, 0, 2, 3, 4, 6, 0),
  leaseTransitions: 2,
};

describe('leaseBody', () => {
  it('serialises times with the six fractional digits the apiserver requires', () => {
    const json = JSON.parse(JSON.stringify(leaseBody('ops', 'lock', record, '42')));
    expect(json.spec.acquireTime).toBe('2026-01-02T03:04:05.678000Z');
    expect(json.spec.renewTime).toBe('2026-01-02T03:04:06.000000Z');
    expect(json.metadata).toEqual({ name: 'lock', namespace: 'ops', resourceVersion: '42' });
  });
});

describe('parseLease', () => {
  it('reads string times and fills absent fields', () => {
    expect(
      parseLease({
        metadata: { resourceVersion: '7' },
        spec: { holderIdentity: 'x', renewTime: '2026-01-02T03:04:06.000000Z' },
      }),
    ).toEqual({
      resourceVersion: '7',
      record: {
        holderIdentity: 'x',
        leaseDurationSeconds: 0,
        acquireTime: 0,
        renewTime: record.renewTime,
        leaseTransitions: 0,
      },
    });
  });

  it('rejects a Lease without a resourceVersion', () => {
    expect(() => parseLease({ metadata: {}, spec: {} })).toThrow();
  });
});

describe('leaseApiFrom', () => {
  const stored = (rv: string): V1Lease => ({
    metadata: { resourceVersion: rv },
    spec: { holderIdentity: 'a' },
  });

  it('maps a 404 on read to undefined and rethrows other errors', async () => {
    let status = 404;
    const api = leaseApiFrom({
      readNamespacedLease: async () => {
        throw new ApiException(status, 'x', '{}', {});
      },
      createNamespacedLease: async () => stored('1'),
      replaceNamespacedLease: async () => stored('2'),
    });
    await expect(api.read('ops', 'lock')).resolves.toBeUndefined();
    status = 403;
    await expect(api.read('ops', 'lock')).rejects.toBeInstanceOf(ApiException);
  });

  it('sends the resourceVersion precondition on replace', async () => {
    const bodies: unknown[] = [];
    const api = leaseApiFrom({
      readNamespacedLease: async () => stored('1'),
      createNamespacedLease: async () => stored('1'),
      replaceNamespacedLease: async (req) => {
        bodies.push(JSON.parse(JSON.stringify(req.body)));
        return stored('9');
      },
    });
    const lease = await api.replace('ops', 'lock', '8', record);
    expect(lease.resourceVersion).toBe('9');
    expect(bodies).toEqual([
      expect.objectContaining({ metadata: expect.objectContaining({ resourceVersion: '8' }) }),
    ]);
  });

  it("writes a shard's annotations on create and every replace, and reads them back", async () => {
    const annotations = { 'rancher.keyops.dev/shard-label-selector': 'shard=a' };
    const bodies: { metadata?: { annotations?: unknown } }[] = [];
    const echo = async (req: { body: V1Lease }) => {
      bodies.push(JSON.parse(JSON.stringify(req.body)));
      return { ...stored('3'), metadata: { resourceVersion: '3', annotations } };
    };
    const api = leaseApiFrom(
      {
        readNamespacedLease: async () => stored('1'),
        createNamespacedLease: echo,
        replaceNamespacedLease: echo,
      },
      annotations,
    );
    const created = await api.create('ops', 'lock', record);
    await api.replace('ops', 'lock', '3', record);
    expect(bodies.map((b) => b.metadata?.annotations)).toEqual([annotations, annotations]);
    expect(created.annotations).toEqual(annotations);
    expect((await api.read('ops', 'lock'))?.annotations).toBeUndefined();
  });
});
