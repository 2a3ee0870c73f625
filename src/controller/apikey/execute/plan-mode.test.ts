import { describe, expect, it } from 'vitest';
import { passWorld } from '../passes.test-support.ts';

describe('plan mode status (kstatus and Argo CD stay honest)', () => {
  it('a new ApiKey: observedGeneration advances, Ready=False PlanNotApplied names the actions, nothing is written', async () => {
    const t = passWorld({ metadata: { finalizers: [] }, spec: { mode: 'Plan' } });
    await t.pass();
    expect(t.obj().status?.observedGeneration).toBe(1);
    expect(t.condition('Ready')).toMatchObject({ status: 'False', reason: 'PlanNotApplied' });
    expect(t.condition('Ready')?.message).toMatch(/no change applied.*AddFinalizer, CreateKey/);
    expect(t.condition('Planned')?.reason).toBe('ChangesPending');
    expect(t.condition('Reconciling')).toBeUndefined();
    expect(t.condition('Stalled')).toBeUndefined();
    expect(t.rancherWrites()).toEqual([]);
    expect(t.obj().metadata.finalizers).toEqual([]);
    expect(await t.pass()).toEqual([]);
  });

  it('a converged key switched to Plan with nothing to change: Ready=True PlanNoChanges at the new generation', async () => {
    const t = passWorld({ metadata: { finalizers: [] } });
    await t.pass();
    expect(t.condition('Ready')?.reason).toBe('KeyActive');
    t.edit({ mode: 'Plan' });
    await t.pass();
    expect(t.obj().status?.observedGeneration).toBe(2);
    expect(t.condition('Ready')).toMatchObject({ status: 'True', reason: 'PlanNoChanges' });
    expect(t.condition('Ready')?.message).toMatch(/^plan mode: no change applied, none needed/);
    expect(t.condition('Planned')?.reason).toBe('NoChanges');
    expect(t.obj().status?.plannedActions).toEqual([]);
  });

  it('a pending deactivation: Ready=False PlanNotApplied, Verified kept, the key untouched', async () => {
    const t = passWorld({ metadata: { finalizers: [] } });
    await t.pass();
    const writes = t.rancherWrites().length;
    t.edit({ mode: 'Plan', state: 'Inactive' });
    await t.pass();
    expect(t.condition('Ready')).toMatchObject({ status: 'False', reason: 'PlanNotApplied' });
    expect(t.condition('Ready')?.message).toMatch(/set spec.mode to Apply to DeactivateKey/);
    expect(t.condition('Verified')?.status).toBe('True');
    expect(t.rancherWrites()).toHaveLength(writes);
  });

  it('a blocked plan keeps its reason and Stalled: the problem is real, not a pending change', async () => {
    const t = passWorld({ metadata: { finalizers: [] }, spec: { mode: 'Plan' } });
    const message = 'RancherConnection rancher not found';
    t.resolver.resolved = { view: { ok: false, reason: 'ConnectionNotFound', message, terminal: true } };
    await t.pass();
    expect(t.obj().status?.observedGeneration).toBe(1);
    expect(t.condition('Ready')).toMatchObject({ status: 'False', reason: 'ConnectionNotFound' });
    expect(t.condition('Stalled')?.status).toBe('True');
    expect(t.condition('Planned')).toMatchObject({ status: 'False', reason: 'CannotPlan' });
  });
});
