/** ReconcileResult follows controller-runtime: requeue after a delay, back off on retry, or wait for events. */
export type ReconcileResult = { kind: 'done'; requeueAfterMs?: number } | { kind: 'retry'; error: Error };
