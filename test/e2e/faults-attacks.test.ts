import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { formatViolations, waitForInvariants } from '../invariants/checker.ts';
import { timed } from '../invariants/results.ts';
import {
  apply,
  FAST_LEASE,
  type FaultRun,
  readyOrExplain,
  setUpConnection,
  trackRun,
} from '../invariants/world-helpers.ts';
import { apiKeyManifest } from './support/manifests.ts';
import { condition, eventually, getApiKey, readSecretValues } from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

// Attacks and odd input, with trace logging so the final leak canary sees everything the operator says.

const SUITE = 'attacks and bad input';
let world: World;
let run: FaultRun & { adopt(): void };
const ns = (i: number) => world.namespaces[i] ?? '';

beforeAll(async () => {
  const since = new Date();
  world = await startWorld({ namespaceCount: 4, env: { ...FAST_LEASE, LOG_LEVEL: 'trace' } });
  run = trackRun(world, since);
  await setUpConnection(ns(0), world.emulator);
  await setUpConnection(ns(2), world.emulator, 'user');
  await setUpConnection(ns(3), world.emulator);
});
afterAll(async () => {
  run?.recorder.stop();
  await world?.stop();
});

/** REFUSED are the attack ApiKeys that must end Ready=False with these reasons (the checker verifies it). */
const REFUSED: Record<string, RegExp> = {};
const refuse = (n: string, name: string, reason: RegExp) => {
  REFUSED[`${n}/${name}`] = reason;
};

const keysOf = (n: string, name: string) =>
  world.emulator.keys().filter((k) => k.description?.includes(`${n}/${name} `));

async function notReady(n: string, name: string, reason: RegExp) {
  refuse(n, name, reason);
  const k = await eventually(
    `${n}/${name} reports why it is not Ready`,
    async () => {
      const c = condition(await getApiKey(world.custom, n, name), 'Ready');
      return c?.status === 'False' && reason.test(c.reason) ? c : undefined;
    },
    30_000,
  );
  return k;
}

describe('confused deputy: namespaces, connections and Secrets the ApiKey does not own', () => {
  it('a connectionRef cannot reach a RancherConnection in another namespace', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'rancher.keyops.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'cross', namespace: ns(1) },
      spec: { connectionRef: { name: 'rancher', namespace: ns(0) } },
    });
    const strict = await kubectl(['apply', '-f', '-'], { input: manifest });
    // Refused by strict field validation, for that reason (connectionRef has no namespace), not any other.
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toMatch(/unknown field "spec\.connectionRef\.namespace"/);
    const r = await kubectl(['apply', '--validate=false', '-f', '-'], { input: manifest });
    expect(r.code, r.stderr).toBe(0);
    const c = await notReady(ns(1), 'cross', /ConnectionNotFound/);
    expect(c.message).not.toContain(ns(0));
    expect(keysOf(ns(1), 'cross')).toEqual([]);
  });

  it('an ApiKey aimed at the connection credentials Secret never overwrites it', async () => {
    const admin = { accessKey: world.emulator.admin.accessKey, secretKey: world.emulator.admin.secretKey };
    expect(await readSecretValues(world.core, ns(0), 'rancher-credentials')).toEqual(admin);
    await apply(apiKeyManifest(ns(0), 'steal', { secret: { name: 'rancher-credentials' } }));
    await notReady(ns(0), 'steal', /SecretConflict/);
    expect(await readSecretValues(world.core, ns(0), 'rancher-credentials')).toEqual(admin);
    expect(keysOf(ns(0), 'steal')).toEqual([]);
  });

  it('a Secret controlled by another object (a ConfigMap) is never taken over', async () => {
    const cm = await world.core.createNamespacedConfigMap({
      namespace: ns(0),
      body: { metadata: { name: 'owner' } },
    });
    await world.core.createNamespacedSecret({
      namespace: ns(0),
      body: {
        metadata: {
          name: 'owned-elsewhere',
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'owner',
              uid: cm.metadata?.uid ?? '',
              controller: true,
            },
          ],
        },
        stringData: { publicValue: 'not yours', secretValue: 'not yours either' },
      },
    });
    await apply(apiKeyManifest(ns(0), 'hijack', { secret: { name: 'owned-elsewhere' } }));
    await notReady(ns(0), 'hijack', /SecretConflict/);
    expect(await readSecretValues(world.core, ns(0), 'owned-elsewhere')).toEqual({
      publicValue: 'not yours',
      secretValue: 'not yours either',
    });
  });

  it('user credentials cannot mint a key in an environment the user is not a member of (1a6)', async () => {
    await apply(apiKeyManifest(ns(2), 'foreign-env', { environment: '1a6' }));
    const c = await notReady(ns(2), 'foreign-env', /^RancherForbidden$/);
    expect(c.message).toMatch(/Forbidden|403/);
    expect(keysOf(ns(2), 'foreign-env')).toEqual([]);
  });
});

describe('odd and oversized input', () => {
  it('a unicode description and a 1024-character description reach Rancher unchanged', async () => {
    await apply(apiKeyManifest(ns(3), 'unicode', { description: 'ключ 🔑 für CI — ünïcødé' }));
    await apply(apiKeyManifest(ns(3), 'verbose', { description: 'd'.repeat(1024) }));
    await readyOrExplain(world, run, ns(3), 'unicode');
    await readyOrExplain(world, run, ns(3), 'verbose');
    expect(keysOf(ns(3), 'unicode')[0]?.description).toContain('ключ 🔑 für CI — ünïcødé');
    expect(keysOf(ns(3), 'verbose')[0]?.description).toContain('d'.repeat(1024));
  });

  it('a 253-character name (the longest valid one) yields a Ready ApiKey and its Secret', async () => {
    const long = `k${'x'.repeat(251)}z`;
    await apply(apiKeyManifest(ns(3), long, {}));
    await readyOrExplain(world, run, ns(3), long);
    expect(keysOf(ns(3), long)).toHaveLength(1);
  });
});

describe('RBAC of deploy/', () => {
  it('grants no wildcard and no escalation verb; cluster-wide Secret list/watch is justified in docs/install.md', async () => {
    const r = await kubectl(['kustomize', join(import.meta.dirname, '..', '..', 'deploy')]);
    expect(r.code, r.stderr).toBe(0);
    type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
    const docs = loadAllYaml(r.stdout) as { kind?: string; metadata?: { name?: string }; rules?: Rule[] }[];
    const rules = docs
      .filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')
      .flatMap((d) =>
        (d.rules ?? []).map((rule) => ({ role: `${d.kind}/${d.metadata?.name}`, kind: d.kind, ...rule })),
      );
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const v of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? [])])
        expect(v, `${rule.role} ${JSON.stringify(rule)}`).not.toContain('*');
      for (const v of ['escalate', 'bind', 'impersonate'])
        expect(rule.verbs ?? [], rule.role).not.toContain(v);
      expect(rule.resources ?? [], rule.role).not.toContain('serviceaccounts/token');
    }
    const clusterSecretReads = rules.filter(
      (rule) =>
        rule.kind === 'ClusterRole' &&
        rule.resources?.includes('secrets') &&
        (rule.verbs?.includes('list') || rule.verbs?.includes('watch')),
    );
    if (clusterSecretReads.length > 0) {
      const install = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'install.md'), 'utf8');
      expect(install).toMatch(/cluster-wide Secret access/i);
      expect(install).toMatch(/list`?\/`?watch/);
    }
  });
});

describe('secret-leak canary over the whole run (trace logging)', () => {
  it('no secret value anywhere but Secret.data, no write outside the namespaces, one key per Ready ApiKey', async () => {
    const v = await timed(
      { suite: SUITE, scenario: 'leak canary (trace logs)', injected: 'attacks refused (Ready=False)' },
      async () => {
        const violations = await waitForInvariants(
          await run.invariantInput({ steadyWindowMs: 4_000, expectNotReady: REFUSED }),
          60_000,
        );
        let refused = 0;
        for (const key of Object.keys(REFUSED)) {
          const [n = '', name = ''] = key.split('/');
          if (condition(await getApiKey(world.custom, n, name), 'Ready')?.status === 'False') refused++;
        }
        return {
          violations,
          times: refused,
          note: `${Object.keys(REFUSED).length} attacks expected refused`,
        };
      },
    );
    expect(v, formatViolations(v)).toEqual([]);
    // The canary saw debug/trace lines (pino levels 10 and 20), not only warnings.
    expect(run.logs().some((l) => /"level":(10|20),/.test(l))).toBe(true);
  });
});
