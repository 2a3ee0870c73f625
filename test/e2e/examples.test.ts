import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { authenticates, readSecretValues, waitForCondition } from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

const DIR = join(import.meta.dirname, '..', '..', 'examples');

let world: World;
beforeAll(async () => {
  world = await startWorld({
    namespaceCount: 1,
    namespaceLabels: { 'rancher.keyops.dev/shared-rancher': 'allowed' },
  });
});
afterAll(async () => {
  await world?.stop();
});

/** fill replaces the documented placeholders, exactly as a user (or `npm run dev`) would. */
function fill(text: string, ns: string): string {
  return (
    text
      .replaceAll('http://rancher.example.com', world.emulator.url)
      .replaceAll('<admin access key>', world.emulator.admin.accessKey)
      .replaceAll('<admin secret key>', world.emulator.admin.secretKey)
      .replace(/\bteam-a\b/g, ns)
      .replace(/(name: )shared-rancher\b(?!-)/g, `$1shared-rancher-${ns}`)
      // Cluster-scoped and operator-namespace objects get unique names, so other suites' copies are untouched.
      .replace(/(name: )shared-rancher-credentials\b/g, `$1shared-rancher-credentials-${ns}`)
  );
}

describe('examples/', () => {
  it('every example ApiKey becomes Ready on a fresh control plane and emulator, with a Secret that authenticates', async () => {
    const ns = world.namespaces[0] ?? '';
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(5);
    type Keys = { publicValue?: string; secretValue?: string; preset?: string };
    const apiKeys: { name: string; secret: string; state: string; keys: Keys; entries: number }[] = [];
    for (const file of files) {
      const text = fill(readFileSync(join(DIR, file), 'utf8'), ns);
      const r = await kubectl(['apply', '-f', '-'], { input: text });
      expect(r.code, `${file}: ${r.stderr}`).toBe(0);
      type Doc = {
        kind?: string;
        metadata: { name: string };
        spec?: {
          secret?: { name?: string; preset?: string; keys?: Keys; template?: Record<string, string> };
          state?: string;
        };
      };
      for (const doc of loadAllYaml(text) as Doc[]) {
        if (doc.kind !== 'ApiKey') continue;
        const out = doc.spec?.secret;
        const keys =
          out?.preset === 'RancherEnv'
            ? { publicValue: 'RANCHER_ACCESS_KEY', secretValue: 'RANCHER_SECRET_KEY' }
            : {
                publicValue: out?.keys?.publicValue ?? 'publicValue',
                secretValue: out?.keys?.secretValue ?? 'secretValue',
              };
        const state = doc.spec?.state ?? 'Active';
        const entries = 3 + Object.keys(out?.template ?? {}).length;
        apiKeys.push({
          name: doc.metadata.name,
          secret: out?.name ?? doc.metadata.name,
          state,
          keys,
          entries,
        });
      }
    }
    expect(apiKeys.length).toBeGreaterThanOrEqual(5);
    for (const k of apiKeys) {
      await waitForCondition(world.custom, ns, k.name, 'Ready', 'True', undefined, 60_000);
      const data = await readSecretValues(world.core, ns, k.secret);
      const values = Object.values(data ?? {});
      expect(values.length, `${k.name}: Secret ${k.secret}`).toBe(k.entries);
      const access = data?.[k.keys.publicValue ?? ''] ?? '';
      const secret = data?.[k.keys.secretValue ?? ''] ?? '';
      expect(await authenticates(world.emulator.url, access, secret), k.name).toBe(k.state === 'Active');
    }
  });
});
