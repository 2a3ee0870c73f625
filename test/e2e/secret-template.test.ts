// The output Secret as users shape it (issue 14): type and template entries rendered from the key's own values,
// declarative labels and annotations, retention separate from deletionPolicy, and a tenant's template that tries
// to read more than its own key or to grow without bound. Real control plane, emulator over HTTP, the operator as
// its own process with deploy/ RBAC.
import { type V1Secret, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../control-plane/testing.ts';
import { checkInvariants, formatViolations } from '../invariants/checker.ts';
import { apiserverWrites } from './support/apiserver-metrics.ts';
import { apiKeyManifest, designManifests } from './support/manifests.ts';
import {
  type ApiKeyObject,
  authenticates,
  condition,
  eventually,
  getApiKey,
  readSecretValues,
  waitForCondition,
} from './support/wait.ts';
import { startWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ namespaceCount: 5 });
});
afterAll(async () => {
  await world?.stop();
});

const ns = (i: number): string => world.namespaces[i] ?? '';
const rancherKey = (id: string | undefined) => world.emulator.keys().find((k) => k.id === id);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(['apply', '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
}

async function setup(i: number, name: string, spec: Record<string, unknown>): Promise<ApiKeyObject> {
  await apply(designManifests(ns(i), world.emulator));
  await apply(apiKeyManifest(ns(i), name, spec));
  return waitForCondition(world.custom, ns(i), name, 'Ready', 'True');
}

async function events(n: string, name: string): Promise<string> {
  return (await kubectl(['get', 'events', '-n', n, '--field-selector', `involvedObject.name=${name}`]))
    .stdout;
}

const readSecret = (n: string, name: string) => world.core.readNamespacedSecret({ namespace: n, name });

// An Authorization header value, a .env file and a JSON config: what consumers of a Rancher key ask for.
const TEMPLATE = {
  username: '{{ .publicValue }}',
  password: '{{ .secretValue }}',
  authorization: 'Basic {{ .publicValue ":" .secretValue | base64 }}',
  'rancher.env':
    'RANCHER_URL={{ .url }}\nRANCHER_ACCESS_KEY={{ .publicValue }}\nRANCHER_SECRET_KEY={{ .secretValue }}\n',
  'cli.json':
    '{"url": {{ .url | json }}, "accessKey": {{ .publicValue | json }}, "environment": {{ .environment | json }}}',
};

const tplSpec = (template: Record<string, string>, type = 'kubernetes.io/basic-auth') => ({
  environment: world.emulator.environments[0]?.id,
  secret: { type, template },
});

describe('spec.secret.type and spec.secret.template', () => {
  it('renders the entries from the key’s own values; the Authorization value authenticates against Rancher', async () => {
    const n = ns(0);
    const k = await setup(0, 'tpl', tplSpec(TEMPLATE));
    const s = await readSecret(n, 'tpl');
    expect(s.type).toBe('kubernetes.io/basic-auth');
    const d = (await readSecretValues(world.core, n, 'tpl')) ?? {};
    const pv = k.status?.publicValue ?? '';
    expect(d.publicValue).toBe(pv);
    expect(d.username).toBe(pv);
    expect(d.password).toBe(d.secretValue);
    expect(d['rancher.env']).toBe(
      `RANCHER_URL=${world.emulator.url}\nRANCHER_ACCESS_KEY=${pv}\nRANCHER_SECRET_KEY=${d.secretValue}\n`,
    );
    expect(JSON.parse(d['cli.json'] ?? '')).toEqual({
      url: world.emulator.url,
      accessKey: pv,
      environment: world.emulator.environments[0]?.id,
    });
    const r = await fetch(`${world.emulator.url}/v1/apikeys?limit=1`, {
      headers: { authorization: d.authorization ?? '' },
    });
    await r.arrayBuffer();
    expect(r.status).toBe(200);
  });

  it('a rotation changes every rendered entry in the same single Secret write as the values', async () => {
    const n = ns(0);
    const first = await getApiKey(world.custom, n, 'tpl');
    const versions: V1Secret[] = [];
    const watch = await new Watch(world.kc).watch(
      `/api/v1/namespaces/${n}/secrets`,
      { fieldSelector: 'metadata.name=tpl' },
      (phase: string, obj: V1Secret) => {
        if (phase === 'MODIFIED' || phase === 'ADDED') versions.push(obj);
      },
      () => undefined,
    );
    try {
      await kubectl(['annotate', 'apikey', 'tpl', '-n', n, 'rancher.keyops.dev/rotate-requested-at=t-1']);
      await eventually('rotation handled', async () => {
        const k = await getApiKey(world.custom, n, 'tpl');
        return k?.status?.id !== first?.status?.id && k?.status?.publicValue ? k : undefined;
      });
      await eventually('the new pair in the watched Secret', async () =>
        versions.some((v) => v.data?.publicValue !== versions[0]?.data?.publicValue) ? true : undefined,
      );
    } finally {
      watch.abort();
    }
    const decode = (v: V1Secret, key: string) => Buffer.from(v.data?.[key] ?? '', 'base64').toString('utf8');
    // Every version a consumer could have read is consistent: its rendered entries belong to its own pair.
    for (const v of versions) {
      const pv = decode(v, 'publicValue');
      const sv = decode(v, 'secretValue');
      expect(decode(v, 'username')).toBe(pv);
      expect(decode(v, 'password')).toBe(sv);
      expect(decode(v, 'authorization')).toBe(`Basic ${b64(`${pv}:${sv}`)}`);
      expect(decode(v, 'rancher.env')).toContain(`RANCHER_SECRET_KEY=${sv}\n`);
    }
    // ... and the pair changed in exactly one write.
    const pairs = versions.map((v) => `${v.data?.publicValue}/${v.data?.secretValue}`);
    const changes = pairs.filter((p, i) => i > 0 && p !== pairs[i - 1]).length;
    expect(changes).toBe(1);
  });

  it('a bad template: Stalled InvalidSecretTemplate with a Warning Event; the Secret keeps its working pair', async () => {
    const n = ns(0);
    const before = await readSecretValues(world.core, n, 'tpl');
    await apply(apiKeyManifest(n, 'tpl', tplSpec({ ...TEMPLATE, extra: '{{ .nope }}' })));
    const k = await waitForCondition(world.custom, n, 'tpl', 'Stalled', 'True');
    expect(condition(k, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSecretTemplate' });
    expect(condition(k, 'Ready')?.message).toMatch(/entry extra: unknown field \.nope/);
    await eventually('InvalidSecretTemplate Event', async () =>
      (await events(n, 'tpl')).includes('InvalidSecretTemplate') ? true : undefined,
    );
    const after = await readSecretValues(world.core, n, 'tpl');
    expect(after).toEqual(before);
    expect(await authenticates(world.emulator.url, after?.publicValue ?? '', after?.secretValue ?? '')).toBe(
      true,
    );
    // Fixing the spec makes it Ready again, with the same key.
    await apply(apiKeyManifest(n, 'tpl', tplSpec(TEMPLATE)));
    const fixed = await waitForCondition(world.custom, n, 'tpl', 'Ready', 'True');
    expect(fixed.status?.publicValue).toBe(after?.publicValue);
  });

  it('a built-in type without its required data keys is Stalled InvalidSecretType before a key is created', async () => {
    const n = ns(0);
    const keysBefore = world.emulator.keys().length;
    await apply(apiKeyManifest(n, 'basic', { secret: { type: 'kubernetes.io/basic-auth' } }));
    const k = await waitForCondition(world.custom, n, 'basic', 'Stalled', 'True');
    expect(condition(k, 'Ready')).toMatchObject({ reason: 'InvalidSecretType' });
    expect(condition(k, 'Ready')?.message).toMatch(/needs the data key username or password/);
    expect(await readSecretValues(world.core, n, 'basic')).toBeUndefined();
    expect(world.emulator.keys().length).toBe(keysBefore);
  });

  it('kubectl explain documents the new fields', async () => {
    const template = await kubectl(['explain', 'apikey.spec.secret.template']);
    expect(template.stdout).toMatch(/base64/);
    expect(template.stdout).toMatch(/\.publicValue/);
    const retention = await kubectl(['explain', 'apikey.spec.secret.retention']);
    expect(retention.stdout).toMatch(/Retain \(no owner reference/);
    const restart = await kubectl(['explain', 'apikey.spec.rotation.restartConsumers']);
    expect(restart.stdout).toMatch(/restarted-for/);
    expect(restart.stdout).toMatch(/discover/);
  });

  it('secret.type cannot be changed (Kubernetes cannot change a Secret’s type): refused at apply time', async () => {
    const r = await kubectl(['apply', '-f', '-'], {
      input: apiKeyManifest(ns(0), 'tpl', tplSpec(TEMPLATE, 'Opaque')),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('secret.type is immutable');
  });
});

describe('declarative labels and annotations on the Secret', () => {
  it('a label or annotation removed from the spec is removed from the Secret; ones other tools added stay', async () => {
    const n = ns(1);
    await setup(1, 'meta', {
      secret: { labels: { team: 'a', tier: 'web' }, annotations: { note: 'hello' } },
    });
    let s = await readSecret(n, 'meta');
    expect(s.metadata?.labels).toMatchObject({ team: 'a', tier: 'web' });
    expect(s.metadata?.annotations).toMatchObject({ note: 'hello' });
    expect((await kubectl(['label', 'secret', 'meta', '-n', n, 'other-tool=keep'])).code).toBe(0);
    expect(
      (await kubectl(['annotate', 'secret', 'meta', '-n', n, 'reloader.stakater.com/match=true'])).code,
    ).toBe(0);
    await apply(apiKeyManifest(n, 'meta', { secret: { labels: { team: 'a' } } }));
    s = await eventually('tier and note removed', async () => {
      const x = await readSecret(n, 'meta');
      return x.metadata?.labels?.tier === undefined && x.metadata?.annotations?.note === undefined
        ? x
        : undefined;
    });
    expect(s.metadata?.labels).toMatchObject({ team: 'a', 'other-tool': 'keep' });
    expect(s.metadata?.annotations?.['reloader.stakater.com/match']).toBe('true');
    // What the operator tracks is keys only: no value of anything appears in its annotations.
    expect(s.metadata?.annotations?.['rancher.keyops.dev/managed-labels']).toBe('team');
    const d = await readSecretValues(world.core, n, 'meta');
    expect(JSON.stringify(s.metadata?.annotations)).not.toContain(d?.secretValue ?? '<none>');
    await waitForCondition(world.custom, n, 'meta', 'Ready', 'True');
  });
});

describe('steady state', () => {
  it('template entries, declarative metadata and a retained Secret are not rewritten across a drift check', async () => {
    const n = ns(1);
    await setup(1, 'still', {
      secret: { retention: 'Retain', labels: { team: 'b' }, annotations: { note: 'x' }, template: TEMPLATE },
    });
    await waitForCondition(world.custom, ns(0), 'tpl', 'Ready', 'True');
    await waitForCondition(world.custom, n, 'meta', 'Ready', 'True');
    await new Promise((r) => setTimeout(r, 1_000));
    const before = await apiserverWrites();
    world.emulator.resetRequests();
    await new Promise((r) => setTimeout(r, 5_000)); // longer than DRIFT_CHECK_INTERVAL=3s
    expect((await apiserverWrites()) - before).toBe(0);
    expect(world.emulator.requests().writes).toBe(0);
  });
});

describe('spec.secret.retention', () => {
  it('Retain: the Secret has no owner reference and outlives the ApiKey (with deletionPolicy Orphan it still works)', async () => {
    const n = ns(2);
    const k = await setup(2, 'keep', { deletionPolicy: 'Orphan', secret: { retention: 'Retain' } });
    const s = await readSecret(n, 'keep');
    expect(s.metadata?.ownerReferences ?? []).toEqual([]);
    expect(s.metadata?.annotations?.['rancher.keyops.dev/apikey-uid']).toBe(k.metadata.uid);
    const r = await kubectl(['delete', 'apikey', 'keep', '-n', n, '--wait=true', '--timeout=60s']);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 3_000)); // give the garbage collector time to act, if it would
    const d = await readSecretValues(world.core, n, 'keep');
    expect(d?.publicValue).toBe(k.status?.publicValue);
    expect(rancherKey(k.status?.id)?.state).toBe('active');
    expect(await authenticates(world.emulator.url, d?.publicValue ?? '', d?.secretValue ?? '')).toBe(true);
  });

  it('Delete (default): the Secret goes with the ApiKey', async () => {
    const n = ns(2);
    await setup(2, 'gone', {});
    expect((await readSecret(n, 'gone')).metadata?.ownerReferences?.[0]?.kind).toBe('ApiKey');
    const r = await kubectl(['delete', 'apikey', 'gone', '-n', n, '--wait=true', '--timeout=60s']);
    expect(r.code, r.stderr).toBe(0);
    await eventually('Secret deleted', async () =>
      (await readSecretValues(world.core, n, 'gone')) === undefined ? true : undefined,
    );
  });
});

describe('attack: a tenant’s template', () => {
  it.each([
    ['another namespace’s Secret', '{{ lookup "v1" "Secret" "rancher-apikey-operator-system" "x" }}'],
    ['the operator’s environment', '{{ env "KUBECONFIG" }}'],
    ['the ApiKey object', '{{ .metadata.namespace }}'],
    ['a Helm-style root', '{{ .Values.secret }}'],
    ['a command', '{{ .url | exec }}'],
  ])('cannot read %s: Stalled, nothing rendered, no key created', async (_what, text) => {
    const n = ns(3);
    const name = `t${Math.abs(text.length * 31 + text.charCodeAt(5)) % 10_000}`;
    await apply(designManifests(n, world.emulator));
    await apply(apiKeyManifest(n, name, { secret: { template: { leak: text } } }));
    const k = await waitForCondition(world.custom, n, name, 'Stalled', 'True');
    expect(condition(k, 'Ready')?.reason).toBe('InvalidSecretTemplate');
    expect(k.status?.id).toBeUndefined();
    expect(await readSecretValues(world.core, n, name)).toBeUndefined();
  });

  it('cannot produce unbounded output: too many or too long entries are refused by kubectl apply, growing ones by the operator', async () => {
    const n = ns(4);
    await apply(designManifests(n, world.emulator));
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`e${i}`, '{{ .url }}']));
    let r = await kubectl(['apply', '-f', '-'], {
      input: apiKeyManifest(n, 'big', { secret: { template: many } }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/template: Too many: 17: must have at most 16 items/);
    r = await kubectl(['apply', '-f', '-'], {
      input: apiKeyManifest(n, 'big', { secret: { template: { e: 'x'.repeat(4097) } } }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Too long: may not be (longer|more) than 4096/);
    // Within the CRD's limits, a template whose output could grow past 16 KiB per entry is refused before any write.
    const growing = { e: `{{ ${'.url '.repeat(200)}| json }}` };
    await apply(apiKeyManifest(n, 'big', { secret: { template: growing } }));
    const k = await waitForCondition(world.custom, n, 'big', 'Stalled', 'True');
    expect(condition(k, 'Ready')?.message).toMatch(/entry e can render up to \d+ bytes; at most 16384/);
    expect(await readSecretValues(world.core, n, 'big')).toBeUndefined();
    // The operator is unharmed: a well-formed ApiKey in the same namespace still becomes Ready.
    await apply(apiKeyManifest(n, 'fine', { secret: { template: { u: '{{ .url }}' } } }));
    await waitForCondition(world.custom, n, 'fine', 'Ready', 'True');
  });
});

describe('afterwards', () => {
  it('no secret value (each one now sits in several template entries) appears in the operator’s logs, Events or metadata', async () => {
    const violations = await checkInvariants({
      kc: world.kc,
      emulator: world.emulator,
      namespaces: world.namespaces,
      operatorLogs: world.operator.lines,
    });
    expect(formatViolations(violations.filter((v) => v.invariant === 5))).toBe('');
  });
});
