/**
 * DelayHeap holds keys waiting for a due time; adding a key that waits already keeps the earlier due time.
 * A binary min-heap with lazy deletion keeps add and pop O(log n) for thousands of delayed keys.
 */
export type DelayHeap = {
  /** add schedules key at due; returns true when this changed the key's due time. */
  add(key: string, due: number): boolean;
  /** peekDue is the earliest due time, or undefined when empty. */
  peekDue(): number | undefined;
  /** has reports whether key waits for a due time. */
  has(key: string): boolean;
  /** popDue removes and returns every key whose due time is <= now, earliest first. */
  popDue(now: number): string[];
  size(): number;
  clear(): void;
};

type Entry = { key: string; due: number };

/** createDelayHeap returns an empty DelayHeap. */
export function createDelayHeap(): DelayHeap {
  const heap: Entry[] = [];
  const dueByKey = new Map<string, number>();
  const swap = (i: number, j: number) => {
    const a = heap[i];
    const b = heap[j];
    if (a === undefined || b === undefined) return;
    heap[i] = b;
    heap[j] = a;
  };
  const dueAt = (i: number) => heap[i]?.due ?? Number.POSITIVE_INFINITY;
  const up = (i: number) => {
    for (let p = (i - 1) >> 1; i > 0 && dueAt(i) < dueAt(p); i = p, p = (i - 1) >> 1) swap(i, p);
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const smallest = [l, l + 1].reduce((m, c) => (dueAt(c) < dueAt(m) ? c : m), i);
      if (smallest === i) return;
      swap(i, smallest);
      i = smallest;
    }
  };
  const pop = (): Entry | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      down(0);
    }
    return top;
  };
  // Drop entries superseded by an earlier due time for the same key.
  const dropStale = () => {
    for (let top = heap[0]; top && dueByKey.get(top.key) !== top.due; top = heap[0]) pop();
  };
  return {
    add(key, due) {
      const current = dueByKey.get(key);
      if (current !== undefined && current <= due) return false;
      dueByKey.set(key, due);
      heap.push({ key, due });
      up(heap.length - 1);
      return true;
    },
    peekDue() {
      dropStale();
      return heap[0]?.due;
    },
    popDue(now) {
      const keys: string[] = [];
      for (dropStale(); heap[0] && heap[0].due <= now; dropStale()) {
        const entry = pop();
        if (entry === undefined) break;
        dueByKey.delete(entry.key);
        keys.push(entry.key);
      }
      return keys;
    },
    has: (key) => dueByKey.has(key),
    size: () => dueByKey.size,
    clear() {
      heap.length = 0;
      dueByKey.clear();
    },
  };
}
