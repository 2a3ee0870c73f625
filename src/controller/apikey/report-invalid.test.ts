import { describe, expect, it } from 'vitest';
import type { EventRecorder } from '../../kube/events.ts';
import type { ResourceWriter } from '../../kube/resources.ts';
import { invalidMessage, releaseInvalid, reportInvalid } from './report-invalid.ts';

function fakeDeps() {
  const patches: { name: string; status: Record<string, unknown> }[] = [];
  const events: { type: string; reason: string; note: string }[] = [];
  const finalizerWrites: string[][] = [];
  const resources: ResourceWriter = {
    setFinalizers: async (_plural, _ns, _name, finalizers) => void finalizerWrites.push(finalizers),
    patchStatus: async (_plural, _ns, name, status) => {
      patches.push({ name, status: status as Record<string, unknown> });
      return '2';
    },
  };
  const recorder: EventRecorder = {
    record: async (_target, type, reason, note) => void events.push({ type, reason, note }),
  };
  return {
    patches,
    events,
    finalizerWrites,
    deps: { resources, events: recorder, now: () => Date.parse('2030-01-01T00:00:00Z') },
  };
}

const raw = (status?: unknown) => ({
  metadata: { name: 'k', namespace: 'team-a', uid: 'u-1', generation: 3 },
  spec: { connectionRef: { name: 'rancher' }, rotation: { every: '0s' } },
  status,
});
const problem = 'spec.rotation.every: rotation.every must be between 1h and 8760h';

describe('reportInvalid', () => {
  it('marks an unparseable ApiKey Ready=False and Stalled=True (InvalidSpec) with one Warning Event', async () => {
    const f = fakeDeps();
    expect(await reportInvalid(raw(), problem, f.deps, new Map())).toBe(true);
    expect(f.patches).toHaveLength(1);
    const status = f.patches[0]?.status as {
      observedGeneration: number;
      conditions: Record<string, unknown>[];
    };
    expect(status.observedGeneration).toBe(3);
    expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'False', 'InvalidSpec'],
      ['Stalled', 'True', 'InvalidSpec'],
    ]);
    expect(String(status.conditions[0]?.message)).toContain(problem);
    expect(f.events).toEqual([{ type: 'Warning', reason: 'InvalidSpec', note: invalidMessage(problem) }]);
  });

  it('writes nothing again: not on the next pass of a lagging cache, not once the status says so', async () => {
    const f = fakeDeps();
    const written = new Map<string, string>();
    await reportInvalid(raw(), problem, f.deps, written);
    expect(await reportInvalid(raw(), problem, f.deps, written)).toBe(false);
    const reported = f.patches[0]?.status;
    expect(await reportInvalid(raw(reported), problem, f.deps, new Map())).toBe(false);
    expect(f.patches).toHaveLength(1);
    expect(f.events).toHaveLength(1);
  });

  it('reports again when the problem changes', async () => {
    const f = fakeDeps();
    const written = new Map<string, string>();
    await reportInvalid(raw(), problem, f.deps, written);
    await reportInvalid(raw(f.patches[0]?.status), 'spec.rotation.overlap: too long', f.deps, written);
    expect(f.patches).toHaveLength(2);
    expect(f.events).toHaveLength(2);
  });

  it('bounds the message to 512 characters', async () => {
    const f = fakeDeps();
    await reportInvalid(raw(), 'x'.repeat(5_000), f.deps, new Map());
    expect(f.events[0]?.note.length).toBe(512);
  });

  it('leaves an object it cannot even address alone', async () => {
    const f = fakeDeps();
    expect(await reportInvalid({ metadata: { name: 'k' } }, problem, f.deps, new Map())).toBe(false);
    expect(f.patches).toEqual([]);
  });
});

describe('releaseInvalid', () => {
  const F = 'rancher.keyops.dev/finalizer';
  const deleting = (status?: unknown) => ({
    metadata: { ...raw().metadata, deletionTimestamp: '2030-01-01T00:00:00Z', finalizers: [F, 'other/keep'] },
    spec: raw().spec,
    status,
  });

  it('a deleted invalid ApiKey that never had a key loses only our finalizer, with an Event', async () => {
    const f = fakeDeps();
    expect(await releaseInvalid(deleting({ conditions: [] }), F, f.deps)).toBe(true);
    expect(f.finalizerWrites).toEqual([['other/keep']]);
    expect(f.events.map((e) => e.reason)).toEqual(['DeletedWithoutRancher']);
  });

  it('keeps the finalizer while status records a key (it must be retired, not orphaned)', async () => {
    const f = fakeDeps();
    expect(await releaseInvalid(deleting({ id: '1c10' }), F, f.deps)).toBe(false);
    expect(await releaseInvalid(deleting({ retiring: [{ id: '1c9' }] }), F, f.deps)).toBe(false);
    expect(f.finalizerWrites).toEqual([]);
  });

  it('does nothing for an ApiKey that is not being deleted', async () => {
    const f = fakeDeps();
    expect(
      await releaseInvalid({ ...raw(), metadata: { ...raw().metadata, finalizers: [F] } }, F, f.deps),
    ).toBe(false);
    expect(f.finalizerWrites).toEqual([]);
  });
});
