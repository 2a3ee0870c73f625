import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARGOCD_CM_FILE, ARGOCD_DIR, ARGOCD_KEY, renderArgocdCm } from '../../scripts/argocd-cm.ts';
import { ANNOTATIONS } from '../../src/api/names.ts';
import { fixtures } from './argocd-fixtures.ts';
import { requireLua, runLua } from './lua.ts';

// deploy/argocd: the argocd-cm patch with one wildcard entry for the three kinds (health.lua, actions rotate and
// reconcile), run in Debian's Lua 5.1 against live objects captured by test/e2e/gitops-status.test.ts.

interface Customization {
  'health.lua'?: string;
  actions?: string;
}
interface Actions {
  'discovery.lua': string;
  definitions: { name: string; 'action.lua': string }[];
}

const KINDS = ['ApiKey', 'RancherConnection', 'ClusterRancherConnection'];
const globMatch = (pattern: string, key: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);

/**
 * argo reads the Lua out of the committed ConfigMap and resolves it for a kind as Argo CD's util/lua does: health
 * from the exact group/kind entry, else the first wildcard entry that matches; actions from the exact entry only.
 */
function argo(kind: string): { health: string; discovery: string; action: (name: string) => string } {
  const cm = load(readFileSync(ARGOCD_CM_FILE, 'utf8')) as { data: Record<string, string> };
  const all = load(cm.data['resource.customizations'] ?? '') as Record<string, Customization>;
  const key = `rancher.keyops.dev/${kind}`;
  const health =
    all[key]?.['health.lua'] ??
    Object.entries(all).find(([k, v]) => globMatch(k, key) && v['health.lua'])?.[1]['health.lua'] ??
    '';
  const actions = load(all[key]?.actions ?? '{}') as Partial<Actions>;
  return {
    health,
    discovery: actions['discovery.lua'] ?? '',
    action: (name) => actions.definitions?.find((d) => d.name === name)?.['action.lua'] ?? '',
  };
}

beforeAll(() => requireLua());

/** withoutAnnotations is an object as Lua hands it back: no annotations, and (Lua has one table type) [] as {}. */
function withoutAnnotations(o: { metadata: Record<string, unknown> }): unknown {
  const copy = { ...o, metadata: { ...o.metadata, annotations: undefined } };
  return JSON.parse(JSON.stringify(copy, (_k, v) => (Array.isArray(v) && v.length === 0 ? {} : v)));
}

describe('deploy/argocd', () => {
  it('argocd-cm.yaml is generated from the .lua files (run `npm run argocd` after changing one)', () => {
    expect(readFileSync(ARGOCD_CM_FILE, 'utf8')).toBe(renderArgocdCm());
    const cm = load(readFileSync(ARGOCD_CM_FILE, 'utf8')) as { data: Record<string, string> };
    const all = load(cm.data['resource.customizations'] ?? '') as Record<string, Customization>;
    // One wildcard entry holds the health check; the per-kind entries hold actions only, so it applies to all.
    expect(
      Object.entries(all)
        .filter(([, v]) => v['health.lua'])
        .map(([k]) => k),
    ).toEqual([ARGOCD_KEY]);
    for (const kind of KINDS)
      expect(argo(kind).health).toBe(readFileSync(join(ARGOCD_DIR, 'health.lua'), 'utf8'));
  });

  it('fixtures cover all three kinds and every health', () => {
    const all = fixtures();
    expect(new Set(all.map((f) => f.object.kind))).toEqual(
      new Set(['ApiKey', 'RancherConnection', 'ClusterRancherConnection']),
    );
    expect(new Set(all.map((f) => f.health.status))).toEqual(
      new Set(['Healthy', 'Degraded', 'Progressing', 'Suspended']),
    );
  });

  it.each(fixtures().map((f) => [f.name, f] as const))(
    'health of the captured %s is what the e2e run saw',
    (_name, f) => {
      expect(runLua(argo(f.object.kind).health, f.object)).toEqual(f.health);
    },
  );

  it('an older observed generation, a missing status and a Stalled that wins over Ready are judged as kstatus does', () => {
    const healthy = fixtures().find((f) => f.name === 'apikey-healthy')?.object;
    if (!healthy) throw new Error('no apikey-healthy fixture');
    const newer = { ...healthy, metadata: { ...healthy.metadata, generation: 2 } };
    expect(runLua(argo('ApiKey').health, newer)).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 2',
    });
    expect(runLua(argo('ApiKey').health, { ...healthy, status: undefined })).toMatchObject({
      status: 'Progressing',
    });
    const conditions = [...((healthy.status?.conditions as object[]) ?? [])];
    conditions.push({ type: 'Stalled', status: 'True', reason: 'X', message: 'y' });
    expect(runLua(argo('ApiKey').health, { ...healthy, status: { ...healthy.status, conditions } })).toEqual({
      status: 'Degraded',
      message: 'X: y',
    });
  });

  it('Argo CD finds reconcile on every kind and rotate on an ApiKey, each discovered and defined', () => {
    const names = (kind: string) =>
      Object.keys(runLua(argo(kind).discovery, { kind, metadata: { name: 'x' } }) as object).sort();
    expect(names('ApiKey')).toEqual(['reconcile', 'rotate']);
    expect(names('RancherConnection')).toEqual(['reconcile']);
    expect(names('ClusterRancherConnection')).toEqual(['reconcile']);
    for (const kind of KINDS)
      for (const n of names(kind)) expect(argo(kind).action(n), `${kind} ${n}`).not.toBe('');
  });

  it.each([
    ['rotate', ANNOTATIONS.rotateRequestedAt],
    ['reconcile', ANNOTATIONS.reconcileRequestedAt],
  ])('action %s sets %s to the current time and changes nothing else', (action, annotation) => {
    for (const f of fixtures().filter((x) => x.object.kind === 'ApiKey')) {
      const before = Date.now() - 1_000;
      const after = runLua(argo('ApiKey').action(action), f.object) as typeof f.object;
      const { [annotation]: token, ...rest } = (after.metadata.annotations ?? {}) as Record<string, string>;
      expect(token, f.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.parse(token ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(rest).toEqual(f.object.metadata.annotations ?? {});
      expect(withoutAnnotations(after)).toEqual(withoutAnnotations(f.object));
    }
    const bare = runLua(argo('ApiKey').action(action), { kind: 'ApiKey', metadata: { name: 'x' } }) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(Object.keys(bare.metadata.annotations)).toEqual([annotation]);
  });
});
