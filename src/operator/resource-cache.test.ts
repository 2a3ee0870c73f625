import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ApiKeySchema } from '../api/apikey.ts';
import { ANNOTATIONS, FINALIZER } from '../api/names.ts';
import { cacheableResource } from './resource-cache.ts';

// An ApiKey as the apiserver sends it after kubectl apply, the finalizer patch and a status write.
const served = {
  apiVersion: 'rancher.keyops.dev/v1alpha1',
  kind: 'ApiKey',
  metadata: {
    name: 'ci',
    namespace: 'team-a',
    uid: 'uid-1',
    generation: 3,
    resourceVersion: '42',
    creationTimestamp: '2026-12-01T10:00:00Z',
    finalizers: [FINALIZER],
    labels: { team: 'a', 'app.kubernetes.io/part-of': 'ci' },
    annotations: {
      [ANNOTATIONS.paused]: 'true',
      [ANNOTATIONS.rotateRequestedAt]: '2026-12-01T11:00:00Z',
      'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: { x: 'y'.repeat(2_000) } }),
    },
    managedFields: [
      { manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } },
      { manager: 'rancher-apikey-operator', operation: 'Update', subresource: 'status', fieldsV1: {} },
    ],
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }],
  },
  spec: { connectionRef: { name: 'rancher' }, description: 'key for CI', secret: { labels: { team: 'a' } } },
  status: {
    id: '1c1',
    observedGeneration: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KeyActive',
        message: 'the key is active',
        lastTransitionTime: '2026-12-01T10:00:01Z',
        observedGeneration: 3,
      },
    ],
  },
} as unknown as KubernetesObject;

describe('cacheableResource (the ApiKey and connection informer transform)', () => {
  it('keeps everything the controllers read: spec, status, identity, finalizers and the own annotations', () => {
    const c = cacheableResource(served);
    const parsed = ApiKeySchema.parse(c);
    const full = ApiKeySchema.parse(served);
    expect(parsed.spec).toEqual(full.spec);
    expect(parsed.status).toEqual(full.status);
    expect(parsed.metadata).toEqual({
      ...full.metadata,
      labels: undefined,
      annotations: {
        [ANNOTATIONS.paused]: 'true',
        [ANNOTATIONS.rotateRequestedAt]: '2026-12-01T11:00:00Z',
      },
    });
    expect(parsed.metadata.finalizers).toEqual([FINALIZER]);
    expect(parsed.metadata.resourceVersion).toBe('42');
  });

  it('drops managedFields, labels, ownerReferences and foreign annotations such as last-applied-configuration', () => {
    const meta = cacheableResource(served).metadata as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual(
      [
        'annotations',
        'creationTimestamp',
        'finalizers',
        'generation',
        'name',
        'namespace',
        'resourceVersion',
        'uid',
      ].sort(),
    );
    expect(JSON.stringify(cacheableResource(served)).length).toBeLessThan(JSON.stringify(served).length / 4);
  });

  it('adds no undefined properties and leaves absent fields absent', () => {
    const bare = cacheableResource({ metadata: { name: 'n' } });
    expect(bare).toEqual({ metadata: { name: 'n' } });
    expect(Object.keys(bare)).toEqual(['metadata']);
    expect(Object.keys(bare.metadata ?? {})).toEqual(['name']);
    const noOwn = cacheableResource({ metadata: { name: 'n', annotations: { a: 'b' }, finalizers: [] } });
    expect(Object.keys(noOwn.metadata ?? {})).toEqual(['name']);
  });

  it('is idempotent (a relisted or re-transformed object is unchanged)', () => {
    const once = cacheableResource(served);
    expect(cacheableResource(once)).toEqual(once);
  });

  it('keeps a deleting object deleting', () => {
    const deleting = cacheableResource({
      ...served,
      metadata: { ...served.metadata, deletionTimestamp: new Date('2026-12-01T12:00:00Z') },
    });
    expect(ApiKeySchema.parse(deleting).metadata.deletionTimestamp).toEqual(new Date('2026-12-01T12:00:00Z'));
  });
});

describe('cacheableResource value sharing', () => {
  it('keeps every spec and status value when it shares repeating strings between objects', () => {
    // Two objects parsed separately, as from two watch events: equal values, distinct strings (JavaScript
    // cannot observe which copy is kept; the benchmark's heapKiBPerKey measures what sharing saves).
    const a = cacheableResource(JSON.parse(JSON.stringify(served)));
    const b = cacheableResource(JSON.parse(JSON.stringify({ ...served, metadata: { ...served.metadata } })));
    const cond = (o: KubernetesObject) =>
      (o as unknown as { status: { conditions: Record<string, unknown>[] } }).status.conditions[0];
    expect(cond(a)).toEqual(cond(b));
    expect(a.metadata?.namespace).toBe('team-a');
    expect(ApiKeySchema.parse(a).spec).toEqual(ApiKeySchema.parse(served).spec);
  });
});
