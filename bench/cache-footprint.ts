// `node --expose-gc bench/cache-footprint.ts [N]`: the live heap one cached ApiKey and its Secret cost, measured
// by running N objects shaped like the apiserver's (parsed from JSON, as the watch delivers them; Secrets also
// through client-node's model deserializer, as the list delivers them) through the informer transforms and
// comparing the heap after a forced GC. It isolates the caches from the rest of the operator's per-key state.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { cacheableResource } from '../src/operator/resource-cache.ts';
import { cacheableSecret } from '../src/operator/secret-cache.ts';

const N = Number(process.argv[2] ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const now = '2026-12-03T07:00:00Z';
function apiKey(i: number): unknown {
  const name = `key-${String(i).padStart(5, '0')}`;
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastTransitionTime: now,
    observedGeneration: 1,
  });
  return {
    apiVersion: 'rancher.keyops.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: {
      name,
      namespace: `team-${i % 4}`,
      uid: `6f1c2d3e-0000-4000-8000-${String(i).padStart(12, '0')}`,
      generation: 1,
      resourceVersion: String(100000 + i),
      creationTimestamp: now,
      finalizers: ['rancher.keyops.dev/finalizer'],
      labels: { 'bench.keyops.dev/run': 'abc123' },
      managedFields: [
        {
          manager: 'bench',
          operation: 'Update',
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          time: now,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:labels': { '.': {}, 'f:bench.keyops.dev/run': {} } },
            'f:spec': { '.': {}, 'f:connectionRef': { '.': {}, 'f:name': {} }, 'f:environment': {} },
          },
        },
        {
          manager: 'rancher-apikey-operator',
          operation: 'Update',
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          time: now,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"rancher.keyops.dev/finalizer"': {} } } },
        },
        {
          manager: 'rancher-apikey-operator',
          operation: 'Update',
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          time: now,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              '.': {},
              'f:conditions': {},
              'f:id': {},
              'f:observedGeneration': {},
              'f:publicValue': {},
              'f:state': {},
            },
          },
        },
      ],
    },
    spec: { connectionRef: { name: 'rancher' }, environment: '1a5' },
    status: {
      observedGeneration: 1,
      id: `1c${i}`,
      publicValue: `PUB${String(i).padStart(17, '0')}`,
      state: 'active',
      conditions: [
        cond('Ready', 'KeyActive', 'the key is active and its Secret holds its pair'),
        cond('Verified', 'Authenticated', 'the Secret authenticated against Rancher'),
      ],
    },
  };
}
function secret(i: number): unknown {
  const name = `key-${String(i).padStart(5, '0')}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    metadata: {
      name,
      namespace: `team-${i % 4}`,
      uid: `7f1c2d3e-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(200000 + i),
      creationTimestamp: now,
      labels: {
        'app.kubernetes.io/managed-by': 'rancher-apikey-operator',
        'rancher.keyops.dev/apikey': name,
      },
      annotations: {
        'rancher.keyops.dev/public-value': `PUB${String(i).padStart(17, '0')}`,
        'rancher.keyops.dev/secret-digest': 'a'.repeat(63) + (i % 10),
      },
      ownerReferences: [
        {
          apiVersion: 'rancher.keyops.dev/v1alpha1',
          kind: 'ApiKey',
          name,
          uid: `6f1c-${i}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'rancher-apikey-operator',
          operation: 'Update',
          apiVersion: 'v1',
          time: now,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { '.': {}, 'f:publicValue': {}, 'f:secretValue': {}, 'f:url': {} } },
        },
      ],
    },
    type: 'Opaque',
    data: {
      publicValue: b64(`PUB${i}`),
      secretValue: b64(`S${i}`.padEnd(40, 'x')),
      url: b64('http://127.0.0.1:40000'),
    },
  };
}

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function measure(label: string, make: (i: number) => unknown): void {
  const held: unknown[] = [];
  const before = heapAfterGc();
  for (let i = 0; i < N; i++) held.push(make(i));
  const after = heapAfterGc();
  process.stdout.write(`${label.padEnd(44)} ${((after - before) / N).toFixed(0).padStart(6)} B per key\n`);
  held.length = 0;
}

const json = (o: unknown) => JSON.parse(JSON.stringify(o)) as never;
measure('ApiKey as watched (JSON.parse)', (i) => json(apiKey(i)));
measure('ApiKey cached (cacheableResource)', (i) => cacheableResource(json(apiKey(i))));
measure('Secret as listed (client-node V1Secret)', (i) =>
  ObjectSerializer.deserialize(json(secret(i)), 'V1Secret'),
);
measure('Secret as watched (JSON.parse)', (i) => json(secret(i)));
measure('Secret cached, listed (cacheableSecret)', (i) =>
  cacheableSecret(ObjectSerializer.deserialize(json(secret(i)), 'V1Secret')),
);
measure('Secret cached, watched (cacheableSecret)', (i) => cacheableSecret(json(secret(i))));
