import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCrds, type JsonSchema } from '../../../src/api/crd.ts';
import { kubectl } from '../../control-plane/testing.ts';
import { apply, setUpConnection } from '../../invariants/world-helpers.ts';
import { apiKeyManifest } from '../support/manifests.ts';
import { condition, eventually, getApiKey, waitForCondition } from '../support/wait.ts';
import { ensureCrds, startWorld, type World } from '../support/world.ts';

// Tenant isolation, point 7 of issue 11: rotation durations that loop or overflow, and descriptions that forge
// the ownership marker, are refused at apply time; what slips past an older CRD is reported as Stalled
// InvalidSpec, written once, and never reaches Rancher.

let world: World;
const ns = () => world.namespaces[0] ?? '';

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 1 });
  await setUpConnection(ns(), world.emulator);
});
afterAll(async () => {
  await ensureCrds(); // whatever happened, leave the current CRD installed
  await world?.stop();
});

const keysNamed = (name: string) => world.emulator.keys().filter((k) => k.name === name);

async function refused(name: string, spec: Record<string, unknown>): Promise<string> {
  const r = await kubectl(['apply', '-f', '-'], { input: apiKeyManifest(ns(), name, spec) });
  expect(r.code, `kubectl apply of ${name} should fail`).not.toBe(0);
  expect(await getApiKey(world.custom, ns(), name)).toBeUndefined();
  return r.stderr;
}

async function invalidSpecEvents(name: string): Promise<number> {
  const r = await kubectl([
    'get',
    'events',
    '-n',
    ns(),
    '--field-selector',
    `involvedObject.name=${name},reason=InvalidSpec`,
    '-o',
    'name',
  ]);
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

/** installLenientCrd installs the ApiKey CRD as an older release had it: no duration bounds, no marker rule. */
async function installLenientCrd(): Promise<void> {
  const crd = buildCrds().find((c) => (c.metadata as { name: string }).name.startsWith('apikeys.'));
  if (!crd) throw new Error('no ApiKey CRD');
  const version = (crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] }).versions[0];
  if (!version) throw new Error('no ApiKey CRD version');
  const spec = version.schema.openAPIV3Schema.properties as Record<string, JsonSchema>;
  const props = spec.spec?.properties as Record<string, JsonSchema>;
  const rotation = props.rotation as JsonSchema;
  delete rotation['x-kubernetes-validations'];
  for (const field of Object.values(rotation.properties as Record<string, JsonSchema>)) {
    delete field.maxLength;
    field.pattern = '^([0-9]+(ms|s|m|h))+$';
  }
  delete (props.description as JsonSchema)['x-kubernetes-validations'];
  const r = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: JSON.stringify(crd),
  });
  expect(r.code, r.stderr).toBe(0);
}

describe('spec bounds at apply time', () => {
  it('kubectl apply refuses rotation.every 0s, a 20-digit every, every <= overlap and a forged marker', async () => {
    expect(await refused('zero', { rotation: { every: '0s' } })).toMatch(
      /rotation\.every must be between 1h and 8760h/,
    );
    expect(await refused('huge', { rotation: { every: '99999999999999999999h' } })).toMatch(
      /spec\.rotation\.every: Too long: may not be (more than|longer than) 16/,
    );
    expect(await refused('tight', { rotation: { every: '2h', overlap: '2h' } })).toMatch(
      /rotation\.every must be longer than rotation\.overlap/,
    );
    expect(await refused('long-overlap', { rotation: { overlap: '169h' } })).toMatch(
      /rotation\.overlap must be at most 168h/,
    );
    const forged = await refused('forged', {
      description: 'ci [managed by rancher-apikey-operator: other-team/x apikey-uid:0f0e0d0c-0000]',
    });
    expect(forged).toMatch(/description must not contain the operator's ownership marker text/);
    expect(
      await refused('released', { description: 'x [Released by rancher-apikey-operator: a/b]' }),
    ).toMatch(/ownership marker/);
    // The same refusals without client-side validation: the apiserver itself enforces them.
    const r = await kubectl(['apply', '--validate=false', '-f', '-'], {
      input: apiKeyManifest(ns(), 'zero', { rotation: { every: '0s' } }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rotation\.every must be between 1h and 8760h/);
    await apply(apiKeyManifest(ns(), 'hourly', { rotation: { every: '1h', overlap: '10m' } }));
    await waitForCondition(world.custom, ns(), 'hourly', 'Ready', 'True');
    for (const name of ['zero', 'huge', 'tight', 'long-overlap', 'forged', 'released'])
      expect(keysNamed(name)).toEqual([]);
  });
});

describe('specs that slip past an older CRD', () => {
  it('report Stalled InvalidSpec once, with the problem, and never reach Rancher', async () => {
    await installLenientCrd();
    const specs: Record<string, Record<string, unknown>> = {
      'old-zero': { rotation: { every: '0s' } },
      'old-huge': { rotation: { every: '99999999999999999999h' } },
      'old-forged': { description: 'x [managed by rancher-apikey-operator: a/b apikey-uid:0f0e0d0c-0000]' },
    };
    try {
      // The apiserver picks up the lenient schema asynchronously.
      await eventually('lenient CRD in effect', async () => {
        const r = await kubectl(['apply', '-f', '-'], {
          input: apiKeyManifest(ns(), 'old-zero', specs['old-zero'] ?? {}),
        });
        return r.code === 0 ? true : undefined;
      });
      await apply(apiKeyManifest(ns(), 'old-huge', specs['old-huge'] ?? {}));
      await apply(apiKeyManifest(ns(), 'old-forged', specs['old-forged'] ?? {}));
    } finally {
      await ensureCrds();
    }
    const expected: Record<string, RegExp> = {
      'old-zero': /rotation\.every/,
      'old-huge': /rotation\.every/,
      'old-forged': /description.*ownership marker/,
    };
    for (const [name, problem] of Object.entries(expected)) {
      const k = await waitForCondition(world.custom, ns(), name, 'Stalled', 'True', 'InvalidSpec');
      const ready = condition(k, 'Ready');
      expect(ready?.status).toBe('False');
      expect(ready?.reason).toBe('InvalidSpec');
      expect(ready?.message).toMatch(problem);
      expect(ready?.message.length).toBeLessThanOrEqual(512);
    }
    // Another pass (any metadata change) writes no status and no second Event.
    for (const name of Object.keys(expected)) {
      const a = await kubectl(['annotate', 'apikey', name, '-n', ns(), 'example.com/poke=1']);
      expect(a.code, a.stderr).toBe(0);
    }
    const versions = await Promise.all(
      Object.keys(expected).map(
        async (n) => (await getApiKey(world.custom, ns(), n))?.metadata.resourceVersion,
      ),
    );
    await new Promise((r) => setTimeout(r, 4_000));
    for (const [i, name] of Object.keys(expected).entries()) {
      expect((await getApiKey(world.custom, ns(), name))?.metadata.resourceVersion, name).toBe(versions[i]);
      expect(await invalidSpecEvents(name), name).toBe(1);
      expect(keysNamed(name)).toEqual([]);
    }
    expect(world.operator.lines.join('\n')).not.toMatch(/RangeError|Invalid time value/);
  });

  it('a working key edited to rotate every 0s under an older CRD stalls instead of rotating in a loop', async () => {
    await apply(apiKeyManifest(ns(), 'edited', {}));
    const first = await waitForCondition(world.custom, ns(), 'edited', 'Ready', 'True');
    await installLenientCrd();
    try {
      await eventually('lenient CRD in effect', async () => {
        const r = await kubectl(['apply', '-f', '-'], {
          input: apiKeyManifest(ns(), 'edited', { rotation: { every: '0s', overlap: '0s' } }),
        });
        return r.code === 0 ? true : undefined;
      });
    } finally {
      await ensureCrds();
    }
    await waitForCondition(world.custom, ns(), 'edited', 'Stalled', 'True', 'InvalidSpec');
    await new Promise((r) => setTimeout(r, 5_000));
    const keys = keysNamed('edited');
    expect(keys.map((k) => k.id)).toEqual([first.status?.id]);
    expect(keys[0]?.state).toBe('active');
  });
});
