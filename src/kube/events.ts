import { FIELD_MANAGER } from '../api/names.ts';
import type { KubeApis } from './client.ts';
import { seg } from './http.ts';

/** EventTarget is the object an Event is about. */
export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}

/** EventRecorder emits events.k8s.io/v1 Events; it never throws (an Event is best effort). */
export interface EventRecorder {
  record(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    note: string,
    action: string,
  ): Promise<void>;
}

/**
 * createEventRecorder writes Events in the target's namespace (the operator namespace for
 * cluster-scoped targets), dropping a repeat of the same target, reason and note within dedupeMs.
 */
export function createEventRecorder(
  apis: KubeApis,
  opts: {
    instance: string;
    fallbackNamespace: string;
    dedupeMs?: number;
    now?: () => number;
    onError?: (err: unknown) => void;
  },
): EventRecorder {
  const recent = new Map<string, number>();
  const dedupeMs = opts.dedupeMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  return {
    async record(target, type, reason, note, action) {
      const key = `${target.uid}|${reason}|${note}`;
      const t = now();
      const last = recent.get(key);
      if (last !== undefined && t - last < dedupeMs) return;
      recent.set(key, t);
      if (recent.size > 10_000) recent.clear();
      const namespace = target.namespace ?? opts.fallbackNamespace;
      try {
        await apis.http.request('POST', `/apis/events.k8s.io/v1/namespaces/${seg(namespace)}/events`, {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { generateName: `${target.name.slice(0, 200)}-`, namespace },
          eventTime: microTime(t),
          reportingController: `rancher.keyops.dev/${FIELD_MANAGER}`,
          reportingInstance: opts.instance.slice(0, 128),
          action,
          reason,
          type,
          note: note.slice(0, 1024),
          regarding: target,
        });
      } catch (err) {
        opts.onError?.(err);
      }
    },
  };
}

/** microTime formats epoch milliseconds as a MicroTime (RFC 3339 with exactly six fractional digits). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
