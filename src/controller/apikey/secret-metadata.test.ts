import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ApiKey, ApiKeySpecSchema } from '../../api/apikey.ts';
import { ANNOTATIONS } from '../../api/names.ts';
import { buildSecret, desiredData, viewSecret } from './secret-data.ts';

const apiKey = (secret: object = {}, extra: object = {}): ApiKey => ({
  metadata: { name: 'ci', namespace: 'team-a', uid: 'uid-1' },
  spec: ApiKeySpecSchema.parse({ connectionRef: { name: 'r' }, secret, ...extra }),
});
const pair = { publicValue: 'PUB0000000000000000A', secretValue: 'sEcReT'.repeat(6) };
const URL = 'https://r.example';
const decode = (d: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(d ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
/** As the apiserver returns it: with a uid and a resourceVersion. */
const stored = (s: V1Secret): V1Secret => ({
  ...s,
  metadata: { ...s.metadata, uid: 's-1', resourceVersion: '7' },
});

describe('Secret template entries and type', () => {
  it('template entries are rendered into the same data map as the values', () => {
    const k = apiKey(
      {
        type: 'kubernetes.io/basic-auth',
        template: { username: '{{ .publicValue }}', password: '{{ .secretValue }}', env: 'URL={{ .url }}' },
      },
      { environment: '1a5' },
    );
    const s = buildSecret(k, URL, pair);
    expect(s.type).toBe('kubernetes.io/basic-auth');
    expect(decode(s.data)).toEqual({
      publicValue: pair.publicValue,
      secretValue: pair.secretValue,
      url: URL,
      username: pair.publicValue,
      password: pair.secretValue,
      env: `URL=${URL}`,
    });
  });

  it('a new pair changes every rendered entry in the one data map that carries the pair', () => {
    const k = apiKey({ template: { auth: 'Basic {{ .publicValue ":" .secretValue | base64 }}' } });
    const next = { publicValue: 'PUB1111111111111111B', secretValue: 'n3w'.repeat(13) };
    const before = decode(desiredData(k, URL, pair));
    const after = decode(desiredData(k, URL, next));
    expect(after.auth).toBe(
      `Basic ${Buffer.from(`${next.publicValue}:${next.secretValue}`).toString('base64')}`,
    );
    expect(after.auth).not.toBe(before.auth);
  });

  it('a Secret whose rendered entry was edited, or whose type differs, is not up to date', () => {
    const k = apiKey({ template: { env: 'A={{ .publicValue }}' } });
    const s = stored(buildSecret(k, URL, pair));
    expect(viewSecret(s, k, URL)).toMatchObject({ intact: true, upToDate: true });
    expect(viewSecret({ ...s, data: { ...s.data, env: 'eA==' } }, k, URL)).toMatchObject({ upToDate: false });
    expect(viewSecret({ ...s, type: 'example.com/other' }, k, URL)).toMatchObject({ upToDate: false });
  });

  it('a bad template makes the Secret read as not up to date instead of throwing', () => {
    const good = stored(buildSecret(apiKey(), URL, pair));
    const bad = apiKey({ template: { x: '{{ .nope }}' } });
    expect(viewSecret(good, bad, URL)).toMatchObject({ intact: true, upToDate: false });
  });
});

describe('declarative labels and annotations', () => {
  const withLabels = apiKey({ labels: { team: 'a', tier: 'web' }, annotations: { note: 'hi' } });

  it('records the keys it applied (never values) in its own annotations', () => {
    const s = buildSecret(withLabels, URL, pair);
    expect(s.metadata?.annotations?.[ANNOTATIONS.managedLabels]).toBe('team,tier');
    expect(s.metadata?.annotations?.[ANNOTATIONS.managedAnnotations]).toBe('note');
  });

  it('a label or annotation removed from the spec is removed; ones other tools added stay', () => {
    const live = stored(buildSecret(withLabels, URL, pair));
    live.metadata = {
      ...live.metadata,
      labels: { ...live.metadata?.labels, 'other-tool': 'x' },
      annotations: { ...live.metadata?.annotations, 'reloader.stakater.com/match': 'true' },
    };
    const trimmed = apiKey({ labels: { team: 'a' } });
    expect(viewSecret(live, trimmed, URL)).toMatchObject({ upToDate: false });
    const next = buildSecret(trimmed, URL, pair, live);
    expect(next.metadata?.labels).toMatchObject({ team: 'a', 'other-tool': 'x' });
    expect(next.metadata?.labels).not.toHaveProperty('tier');
    expect(next.metadata?.annotations).not.toHaveProperty('note');
    expect(next.metadata?.annotations).not.toHaveProperty(ANNOTATIONS.managedAnnotations);
    expect(next.metadata?.annotations?.['reloader.stakater.com/match']).toBe('true');
    expect(next.metadata?.annotations?.[ANNOTATIONS.managedLabels]).toBe('team');
    expect(viewSecret(stored(next), trimmed, URL)).toMatchObject({ upToDate: true });
  });

  it('a spec label may not take over one of the operator’s own keys', () => {
    const k = apiKey({ labels: { 'app.kubernetes.io/managed-by': 'me' } });
    const s = buildSecret(k, URL, pair);
    expect(s.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('rancher-apikey-operator');
    expect(s.metadata?.annotations).not.toHaveProperty(ANNOTATIONS.managedLabels);
  });
});

describe('upgrading from a version without declarative metadata', () => {
  /** The Secret an older operator wrote: user and own labels/annotations, no managed-* annotations. */
  const older = (k: ApiKey): V1Secret => {
    const s = stored(buildSecret(k, URL, pair));
    const annotations = { ...s.metadata?.annotations };
    delete annotations[ANNOTATIONS.managedLabels];
    delete annotations[ANNOTATIONS.managedAnnotations];
    return { ...s, metadata: { ...s.metadata, annotations } };
  };

  it('a Secret of an ApiKey without labels or annotations in its spec is up to date: no write', () => {
    const k = apiKey();
    expect(viewSecret(older(k), k, URL)).toMatchObject({ upToDate: true });
  });

  it('one with spec labels is rewritten once, to record the keys', () => {
    const k = apiKey({ labels: { team: 'a' } });
    expect(viewSecret(older(k), k, URL)).toMatchObject({ upToDate: false });
    const next = stored(buildSecret(k, URL, pair, older(k)));
    expect(viewSecret(next, k, URL)).toMatchObject({ upToDate: true });
  });
});

describe('Secret retention', () => {
  it('Delete (default): the ApiKey is the Secret’s controller owner', () => {
    const s = buildSecret(apiKey(), URL, pair);
    expect(s.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ uid: 'uid-1', controller: true }),
    ]);
    expect(s.metadata?.annotations).not.toHaveProperty(ANNOTATIONS.apiKeyUid);
  });

  it('Retain: no owner reference (garbage collection keeps it), the apikey-uid mark says whose it is', () => {
    const k = apiKey({ retention: 'Retain' });
    const s = stored(buildSecret(k, URL, pair));
    expect(s.metadata?.ownerReferences).toBeUndefined();
    expect(s.metadata?.annotations?.[ANNOTATIONS.apiKeyUid]).toBe('uid-1');
    expect(viewSecret(s, k, URL)).toEqual({
      state: 'owned',
      publicValue: pair.publicValue,
      intact: true,
      upToDate: true,
    });
    expect(viewSecret(s, { ...k, metadata: { ...k.metadata, uid: 'uid-2' } }, URL)).toMatchObject({
      state: 'foreign',
    });
  });

  it('switching retention rewrites the owner reference both ways', () => {
    const owned = stored(buildSecret(apiKey(), URL, pair));
    const retain = apiKey({ retention: 'Retain' });
    expect(viewSecret(owned, retain, URL)).toMatchObject({ state: 'owned', upToDate: false });
    const retained = stored(buildSecret(retain, URL, pair, owned));
    expect(retained.metadata?.ownerReferences).toBeUndefined();
    expect(viewSecret(retained, apiKey(), URL)).toMatchObject({ state: 'owned', upToDate: false });
    const back = buildSecret(apiKey(), URL, pair, retained);
    expect(back.metadata?.ownerReferences).toHaveLength(1);
    expect(back.metadata?.annotations).not.toHaveProperty(ANNOTATIONS.apiKeyUid);
  });
});
