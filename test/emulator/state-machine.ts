import type { KeyState } from './model.ts';

/** ACTION_NAMES are the resource actions of the apiKey schema, in the order Rancher lists them. */
export const ACTION_NAMES = ['activate', 'create', 'deactivate', 'purge', 'remove', 'update'] as const;

/** ActionName is one apiKey resource action (a `credential.*` process). */
export type ActionName = (typeof ACTION_NAMES)[number];

interface Process {
  from: readonly KeyState[];
  transitioning: (from: KeyState) => KeyState;
  done: (from: KeyState) => KeyState;
}

const always =
  (state: KeyState): ((from: KeyState) => KeyState) =>
  () =>
    state;

// Cattle's generic credential processes (DefaultProcessesParser), reference §3.
const PROCESSES: Record<ActionName, Process> = {
  create: { from: ['requested'], transitioning: always('registering'), done: always('active') },
  activate: {
    from: ['inactive', 'registering'],
    transitioning: always('activating'),
    done: always('active'),
  },
  deactivate: {
    from: ['requested', 'registering', 'active', 'activating', 'updating-active', 'updating-inactive'],
    transitioning: always('deactivating'),
    done: always('inactive'),
  },
  remove: {
    from: ['requested', 'inactive', 'registering', 'updating-active', 'updating-inactive'],
    transitioning: always('removing'),
    done: always('removed'),
  },
  purge: { from: ['removed'], transitioning: always('purging'), done: always('purged') },
  update: {
    from: ['inactive', 'active'],
    transitioning: (from) => (from === 'active' ? 'updating-active' : 'updating-inactive'),
    done: (from) => from,
  },
};

const TRANSITIONING_STATES: ReadonlySet<KeyState> = new Set<KeyState>([
  'registering',
  'activating',
  'deactivating',
  'updating-active',
  'updating-inactive',
  'removing',
  'purging',
]);

/** isActionName tells whether a string is an action of the apiKey schema. */
export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}

/** isTransitioning tells whether a state is a process's transitioning state (`transitioning: "yes"`). */
export function isTransitioning(state: KeyState): boolean {
  return TRANSITIONING_STATES.has(state);
}

/** actionsFor lists the actions offered in a state: those whose process may start from it. */
export function actionsFor(state: KeyState): ActionName[] {
  return ACTION_NAMES.filter((name) => PROCESSES[name].from.includes(state));
}

/** canStart tells whether an action's process may start from a state. */
export function canStart(action: ActionName, state: KeyState): boolean {
  return PROCESSES[action].from.includes(state);
}

/** transitionOf returns the transitioning and done states of an action started from a state. */
export function transitionOf(
  action: ActionName,
  from: KeyState,
): { transitioning: KeyState; done: KeyState } {
  const process = PROCESSES[action];
  return { transitioning: process.transitioning(from), done: process.done(from) };
}
