import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../../kube/label-selector.ts';
import { type ClaimantView, type ClaimInput, decideClaim } from './decide.ts';

const lease = (over: Partial<ClaimantView> = {}): ClaimantView => ({
  live: true,
  namespaces: [],
  selector: parseLabelSelector('shard=a'),
  ...over,
});
const input = (over: Partial<ClaimInput>): ClaimInput => ({
  me: 'b',
  claimant: 'a',
  lease: lease(),
  apiKey: { namespace: 'team', labels: { shard: 'b' } },
  ...over,
});

describe('decideClaim', () => {
  it.each<[string, Partial<ClaimInput>, ReturnType<typeof decideClaim>]>([
    ['an unclaimed ApiKey is claimed', { claimant: '' }, { kind: 'claim' }],
    ['an ApiKey this shard claimed is acted on', { claimant: 'b' }, { kind: 'act' }],
    [
      'a claim whose Lease is gone is taken over',
      { lease: undefined },
      { kind: 'takeOver', from: 'a', why: 'leaseNotHeld' },
    ],
    [
      'a claim whose Lease expired or was released is taken over',
      { lease: lease({ live: false }) },
      { kind: 'takeOver', from: 'a', why: 'leaseNotHeld' },
    ],
    [
      'a claim by a shard that does not watch the namespace is taken over',
      { lease: lease({ namespaces: ['other'] }) },
      { kind: 'takeOver', from: 'a', why: 'outsideNamespaces' },
    ],
    [
      'a live claimant whose selector no longer matches is waited for (it releases after its pass)',
      {},
      { kind: 'wait', from: 'a' },
    ],
    [
      'a live claimant whose selector matches as well is an overlap',
      { apiKey: { namespace: 'team', labels: { shard: 'a' } } },
      { kind: 'overlap', from: 'a' },
    ],
    [
      'a live claimant in the namespace with an unknown selector is an overlap, never overwritten',
      { lease: lease({ selector: undefined, namespaces: ['team'] }) },
      { kind: 'overlap', from: 'a' },
    ],
  ])('%s', (_name, over, expected) => {
    expect(decideClaim(input(over))).toEqual(expected);
  });
});
