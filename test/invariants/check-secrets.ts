import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { authenticates } from '../e2e/support/wait.ts';
import type { InvariantInput, Snapshot, Violation } from './model.ts';
import { isReady } from './model.ts';
import { dataKeysFor, type SecretVersion } from './recorder.ts';

const decode = (s: V1Secret): Record<string, string> =>
  Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );

/**
 * checkSecrets proves invariants 2 and 4 on the Kubernetes side: every Ready Active ApiKey's Secret is
 * its own, holds the public value of its status and authenticates; no Secret of a deleted ApiKey is left.
 * With a recorder, each of those Secrets' current version must have been recorded (invariant 3): a
 * history that missed it (a watch that failed quietly) cannot vouch for the pair.
 */
export async function checkSecrets(input: InvariantInput, snap: Snapshot): Promise<Violation[]> {
  const out: Violation[] = [];
  const core = input.kc.makeApiClient(CoreV1Api);
  const live = new Set(snap.apiKeys.map((k) => k.metadata.uid));
  const recorded = new Set(
    (input.recorder?.secretVersions ?? []).map((v) => `${v.namespace}/${v.name}@${v.resourceVersion}`),
  );
  for (const ns of input.namespaces) {
    const secrets = (await core.listNamespacedSecret({ namespace: ns })).items;
    for (const s of secrets) {
      const owner = s.metadata?.ownerReferences?.find((o) => o.kind === 'ApiKey');
      if (owner && !live.has(owner.uid))
        out.push({
          invariant: 4,
          message: `Secret ${ns}/${s.metadata?.name} of deleted ApiKey ${owner.name} is still there`,
        });
    }
    const byName = new Map(secrets.map((s) => [s.metadata?.name ?? '', s]));
    for (const k of snap.apiKeys.filter((a) => a.metadata.namespace === ns)) {
      if (k.metadata.deletionTimestamp || !isReady(k)) continue;
      const where = `ApiKey ${ns}/${k.metadata.name}`;
      const name = k.status?.secretName ?? k.spec.secret?.name ?? k.metadata.name;
      const s = byName.get(name);
      if (!s) {
        out.push({ invariant: 2, message: `${where} is Ready but its Secret ${name} does not exist` });
        continue;
      }
      const rv = s.metadata?.resourceVersion ?? '';
      if (input.recorder && !recorded.has(`${ns}/${name}@${rv}`))
        out.push({
          invariant: 3,
          message: `${where}: the recorder never saw Secret ${name}@${rv} (${input.recorder.secretVersions.length} versions recorded, watch errors: ${input.recorder.watchErrors.length}), so its history proves nothing`,
        });
      const controller = s.metadata?.ownerReferences?.find((o) => o.controller);
      if (controller?.uid !== k.metadata.uid)
        out.push({ invariant: 6, message: `${where}: Secret ${name} is not controlled by it` });
      const keys = dataKeysFor(k.spec);
      const data = decode(s);
      const pv = data[keys.publicValue];
      const sv = data[keys.secretValue];
      if (!pv || !sv || pv !== k.status?.publicValue) {
        out.push({
          invariant: 2,
          message: `${where}: Secret ${name} holds public value ${pv ?? 'none'} (secret ${sv ? 'present' : 'missing'}), status says ${k.status?.publicValue}`,
        });
        continue;
      }
      const active = (k.spec.state ?? 'Active') === 'Active';
      if (active && !(await authenticates(input.emulator.url, pv, sv)))
        out.push({ invariant: 2, message: `${where}: the pair in Secret ${name} does not authenticate` });
    }
  }
  return out;
}

/**
 * checkSecretHistory proves invariant 3 over every recorded Secret version: each holds both values,
 * and no write changed one value without the other (a consumer never sees a half-written pair).
 */
export function checkSecretHistory(input: InvariantInput): Violation[] {
  const rec = input.recorder;
  if (!rec) return [];
  const out: Violation[] = [];
  const last = new Map<string, SecretVersion>();
  for (const v of rec.secretVersions) {
    const keys = rec.apiKeys.get(v.ownerUid ?? '')?.keys ?? dataKeysFor(undefined);
    const where = `Secret ${v.namespace}/${v.name}@${v.resourceVersion}`;
    const pv = v.data[keys.publicValue];
    const sv = v.data[keys.secretValue];
    if (!pv || !sv) out.push({ invariant: 3, message: `${where} was written without both values` });
    const id = `${v.namespace}/${v.name}/${v.ownerUid}`;
    const prev = last.get(id);
    if (prev && (prev.data[keys.publicValue] === pv) !== (prev.data[keys.secretValue] === sv))
      out.push({ invariant: 3, message: `${where} changed one value of the pair without the other` });
    last.set(id, v);
  }
  for (const t of rec.takeovers)
    out.push({
      invariant: 6,
      message: `Secret ${t} was created by someone else and taken over by an ApiKey`,
    });
  return out;
}
