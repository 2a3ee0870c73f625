import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../../src/api/names.ts';
import { createTestNamespace, kubectl } from '../../control-plane/testing.ts';
import { apply, setUpConnection } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import { condition, eventually, getApiKey } from '../support/wait.ts';
import { startWorld, type World } from '../support/world.ts';

// Tenant isolation, attack 6 of issue 11: an ApiKey whose connection never worked (a typo in connectionRef,
// an environment the credentials may not use) must never block its own deletion, nor its namespace's.

let world: World;
const ns = (i: number) => world.namespaces[i] ?? '';

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 2 });
  await setUpConnection(ns(1), world.emulator, 'user');
});
afterAll(async () => {
  await world?.stop();
});

const keysNamed = (name: string) => world.emulator.keys().filter((k) => k.name === name);

async function notReady(n: string, name: string, reason: RegExp) {
  return eventually(
    `${n}/${name} reports ${reason}`,
    async () => {
      const k = await getApiKey(world.custom, n, name);
      const c = condition(k, 'Ready');
      return c?.status === 'False' && reason.test(c.reason) ? k : undefined;
    },
    30_000,
  );
}

async function deleteAndWait(n: string, name: string, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  const r = await kubectl(['delete', 'apikey', name, '-n', n, `--timeout=${timeoutMs / 1000}s`]);
  expect(r.code, r.stderr).toBe(0);
  expect(await getApiKey(world.custom, n, name)).toBeUndefined();
  return Date.now() - started;
}

describe('deletion always finishes when no Rancher key can exist', () => {
  it('a typo in connectionRef: no finalizer is ever added and the ApiKey deletes at once', async () => {
    await apply(
      JSON.stringify({
        ...JSON.parse(apiKeyManifest(ns(0), 'typo', {})),
        spec: { connectionRef: { name: 'rancehr' } },
      }),
    );
    const k = await notReady(ns(0), 'typo', /ConnectionNotFound/);
    expect(k.metadata.finalizers ?? []).not.toContain(FINALIZER);
    await deleteAndWait(ns(0), 'typo');
  });

  it('an environment the credentials may not use (403): no finalizer, deletes at once, nothing created', async () => {
    await apply(apiKeyManifest(ns(1), 'forbidden-env', { environment: '1a6' }));
    const k = await notReady(ns(1), 'forbidden-env', /RancherForbidden/);
    expect(k.metadata.finalizers ?? []).not.toContain(FINALIZER);
    await deleteAndWait(ns(1), 'forbidden-env');
    expect(keysNamed('forbidden-env')).toEqual([]);
  });

  it('an ApiKey holding the finalizer but no key (an older operator added it) deletes at once and says why', async () => {
    await apply(
      JSON.stringify({
        ...JSON.parse(apiKeyManifest(ns(0), 'legacy', {})),
        spec: { connectionRef: { name: 'nope' } },
      }),
    );
    await notReady(ns(0), 'legacy', /ConnectionNotFound/);
    const p = await kubectl([
      'patch',
      'apikey',
      'legacy',
      '-n',
      ns(0),
      '--type=merge',
      '-p',
      JSON.stringify({ metadata: { finalizers: [FINALIZER] } }),
    ]);
    expect(p.code, p.stderr).toBe(0);
    await deleteAndWait(ns(0), 'legacy', 20_000);
    const ev = await kubectl([
      'get',
      'events',
      '-n',
      ns(0),
      '--field-selector',
      'involvedObject.name=legacy',
    ]);
    expect(ev.stdout).toMatch(/DeletedWithoutRancher/);
  });

  it('a namespace holding a broken ApiKey is deleted (no finalizer keeps it Terminating)', async () => {
    const doomed = await createTestNamespace(world.kc, 'e2e-doomed', {});
    // The operator only watches its namespaces; restart it so it watches this one too.
    await world.restartOperator({ env: { WATCH_NAMESPACES: [...world.namespaces, doomed].join(',') } });
    await apply(
      JSON.stringify({
        ...JSON.parse(apiKeyManifest(doomed, 'broken', {})),
        spec: { connectionRef: { name: 'missing' } },
      }),
    );
    await notReady(doomed, 'broken', /ConnectionNotFound/);
    const r = await kubectl(['delete', 'namespace', doomed, '--timeout=60s']);
    expect(r.code, r.stderr).toBe(0);
    const gone = await kubectl(['get', 'namespace', doomed]);
    expect(gone.code).not.toBe(0);
  });
});
