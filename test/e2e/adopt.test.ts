import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { type Credentials, createActiveKey, credentialsOf, textAt } from '../emulator/http-helpers.ts';
import { type InspectedKey, OTHER_PROJECT_ID } from '../emulator/index.ts';
import { apply, setUpConnection } from '../invariants/world-helpers.ts';
import { apiKeyManifest } from './support/manifests.ts';
import {
  authenticates,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

// Adopting an existing key (issue 14): an ApiKey takes over a key made outside the operator, from its access key
// and a Secret in the ApiKey's own namespace holding its secret value, then manages it like any other. A pair that
// does not authenticate, a key in another scope and a key another ApiKey owns are refused, and nothing changes in
// Rancher.

let world: World;
const teamA = () => world.namespaces[0] ?? '';
const teamB = () => world.namespaces[1] ?? '';
const env = () => world.emulator.environments[0]?.id ?? '1a5';

beforeAll(async () => {
  world = await startWorld({ namespaceCount: 2 });
  await setUpConnection(teamA(), world.emulator);
  await setUpConnection(teamB(), world.emulator);
});
afterAll(async () => {
  await world?.stop();
});

const keyById = (id: string | undefined) => world.emulator.keys().find((k) => k.id === id);
const snapshot = (k: InspectedKey | undefined) =>
  k && { id: k.id, state: k.state, name: k.name, description: k.description };

/** existingKey makes a key the way a person did before the operator: directly in Rancher, in `project`. */
async function existingKey(project = env()): Promise<Credentials & { id: string }> {
  const created = await createActiveKey(
    world.emulator,
    world.emulator.admin,
    `/v1/projects/${project}/apikeys`,
    {
      name: 'made-by-hand',
      description: 'the CI key from before the operator',
    },
  );
  return { ...credentialsOf(created), id: textAt(created, 'id') };
}

/** valueSecret stores a secret value where a tenant keeps it: a plain Secret in its namespace. */
async function valueSecret(ns: string, name: string, secretValue: string): Promise<void> {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    stringData: { secretValue },
  };
  await apply(JSON.stringify(secret));
}

const adoptSpec = (publicValue: string, secret: string) => ({
  environment: env(),
  adopt: { publicValue, secretValueFrom: { name: secret } },
});

async function eventReasons(ns: string, name: string): Promise<string> {
  const r = await kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`]);
  return r.stdout;
}

describe('adopting an existing key', () => {
  it('takes the key over, writes its pair to the Secret, and from then on rotates and retires it like any other', async () => {
    const old = await existingKey();
    await valueSecret(teamA(), 'legacy-ci', old.secretKey);
    await apply(
      apiKeyManifest(teamA(), 'adopter', {
        ...adoptSpec(old.accessKey, 'legacy-ci'),
        rotation: { overlap: '1s' },
      }),
    );
    const k = await waitForCondition(world.custom, teamA(), 'adopter', 'Ready', 'True', 'KeyActive');
    expect(k.status?.id).toBe(old.id);
    expect((k.status as { adopted?: { id: string } }).adopted?.id).toBe(old.id);
    expect(condition(k, 'Verified')?.status).toBe('True');
    const key = keyById(old.id);
    expect(key?.name).toBe('adopter');
    expect(key?.description).toBe(
      `[managed by rancher-apikey-operator: ${teamA()}/adopter apikey-uid:${k.metadata.uid}]`,
    );
    const values = await readSecretValues(world.core, teamA(), 'adopter');
    expect(values).toMatchObject({ publicValue: old.accessKey, secretValue: old.secretKey });
    expect(world.emulator.keys().filter((x) => x.name === 'adopter')).toHaveLength(1);
    expect(await eventReasons(teamA(), 'adopter')).toMatch(/AdoptedKey/);

    // Managed like any other: an on-demand rotation replaces it and retires the adopted key after the overlap.
    await kubectl([
      'annotate',
      'apikey',
      'adopter',
      '-n',
      teamA(),
      'rancher.keyops.dev/rotate-requested-at=r1',
    ]);
    const rotated = await eventually('rotation away from the adopted key', async () => {
      const cur = await getApiKey(world.custom, teamA(), 'adopter');
      const retired = ['removed', 'purged'].includes(keyById(old.id)?.state ?? '');
      return cur?.status?.id && cur.status.id !== old.id && retired ? cur : undefined;
    });
    const now = await readSecretValues(world.core, teamA(), 'adopter');
    expect(now?.publicValue).toBe(rotated.status?.publicValue);
    expect(await authenticates(world.emulator.url, now?.publicValue ?? '', now?.secretValue ?? '')).toBe(
      true,
    );
    expect(await authenticates(world.emulator.url, old.accessKey, old.secretKey)).toBe(false);
    // ... and deleting the ApiKey (deletionPolicy Purge) purges its key.
    expect((await kubectl(['delete', 'apikey', 'adopter', '-n', teamA(), '--timeout=60s'])).code).toBe(0);
    expect(keyById(rotated.status?.id)?.state).toBe('purged');
  });

  /** expectRefused waits for the refusal and checks that nothing was written to Rancher or to the ApiKey's Secret. */
  async function expectRefused(ns: string, name: string, reason: string, victim: InspectedKey | undefined) {
    const k = await waitForCondition(world.custom, ns, name, 'Ready', 'False', reason);
    expect(condition(k, 'Stalled')).toMatchObject({ status: 'True', reason });
    expect(condition(k, 'Ready')?.message).toMatch(/Nothing was changed in Rancher\.$/);
    await new Promise((r) => setTimeout(r, 1_500)); // several passes at the e2e drift interval
    expect(world.emulator.requests().writes, JSON.stringify(world.emulator.requests().byRoute)).toBe(0);
    expect(snapshot(keyById(victim?.id))).toEqual(snapshot(victim));
    const after = await getApiKey(world.custom, ns, name);
    expect(after?.metadata.finalizers ?? []).toEqual([]);
    expect(after?.status?.id).toBeUndefined();
    expect(await readSecretValues(world.core, ns, name)).toBeUndefined();
    expect(await eventReasons(ns, name)).toMatch(new RegExp(`Warning\\s+${reason}`));
    return k;
  }

  it('refuses a pair that does not authenticate', async () => {
    const old = await existingKey();
    await valueSecret(teamA(), 'wrong-value', `${old.secretKey}x`);
    const before = keyById(old.id);
    world.emulator.resetRequests();
    await apply(apiKeyManifest(teamA(), 'bad-pair', adoptSpec(old.accessKey, 'wrong-value')));
    const k = await expectRefused(teamA(), 'bad-pair', 'AdoptAuthenticationFailed', before);
    expect(condition(k, 'Ready')?.message).toMatch(/does not authenticate/);
    expect(condition(k, 'Ready')?.message).not.toContain(old.secretKey);
  });

  it('refuses a key in another environment than the ApiKey (the connection scope it uses)', async () => {
    const other = await existingKey(OTHER_PROJECT_ID);
    await valueSecret(teamA(), 'other-env', other.secretKey);
    const before = keyById(other.id);
    world.emulator.resetRequests();
    await apply(apiKeyManifest(teamA(), 'out-of-scope', adoptSpec(other.accessKey, 'other-env')));
    const k = await expectRefused(teamA(), 'out-of-scope', 'AdoptKeyOutOfScope', before);
    expect(condition(k, 'Ready')?.message).toMatch(new RegExp(`environment ${env()}`));
  });

  it("refuses a key another ApiKey owns, even with its pair: the owner's key, Secret and Ready are untouched", async () => {
    await apply(apiKeyManifest(teamA(), 'owner', { environment: env() }));
    const owner = await waitForCondition(world.custom, teamA(), 'owner', 'Ready', 'True');
    const pair = await readSecretValues(world.core, teamA(), 'owner');
    await valueSecret(teamB(), 'copied', pair?.secretValue ?? '');
    const before = keyById(owner.status?.id);
    world.emulator.resetRequests();
    await apply(apiKeyManifest(teamB(), 'thief', adoptSpec(owner.status?.publicValue ?? '', 'copied')));
    await expectRefused(teamB(), 'thief', 'AdoptKeyOwned', before);
    const still = await getApiKey(world.custom, teamA(), 'owner');
    expect(condition(still, 'Ready')?.status).toBe('True');
    expect(await readSecretValues(world.core, teamA(), 'owner')).toEqual(pair);
  });

  it('cannot name a Secret in another namespace, nor be added to an existing ApiKey (kubectl apply refuses both)', async () => {
    const withNamespace = apiKeyManifest(teamB(), 'cross-ns', {
      environment: env(),
      adopt: {
        publicValue: 'A1B2C3D4E5F6A7B8C9D0',
        secretValueFrom: { name: 'legacy-ci', namespace: teamA() },
      },
    });
    const r = await kubectl(['apply', '-f', '-'], { input: withNamespace });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown field "spec\.adopt\.secretValueFrom\.namespace"/);
    expect(await getApiKey(world.custom, teamB(), 'cross-ns')).toBeUndefined();
    const explain = await kubectl(['explain', 'apikey.spec.adopt.secretValueFrom']);
    expect(explain.stdout).toMatch(/another namespace cannot be named/);

    await apply(apiKeyManifest(teamB(), 'plain', { environment: env() }));
    const later = apiKeyManifest(teamB(), 'plain', adoptSpec('A1B2C3D4E5F6A7B8C9D0', 'copied'));
    const added = await kubectl(['apply', '-f', '-'], { input: later });
    expect(added.code).not.toBe(0);
    expect(added.stderr).toMatch(/adopt can only be set when the ApiKey is created/);
  });
});
