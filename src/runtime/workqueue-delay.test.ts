import { describe, expect, it } from 'vitest';
import { createDelayHeap } from './workqueue-delay.ts';

describe('createDelayHeap', () => {
  it('pops due keys earliest first and keeps each key only once at its earliest due time', () => {
    const heap = createDelayHeap();
    heap.add('c', 30);
    heap.add('a', 10);
    heap.add('b', 20);
    heap.add('c', 5);
    heap.add('a', 50);
    expect(heap.size()).toBe(3);
    expect(heap.peekDue()).toBe(5);
    expect(heap.popDue(20)).toEqual(['c', 'a', 'b']);
    expect(heap.popDue(1_000)).toEqual([]);
    expect(heap.size()).toBe(0);
  });

  it('matches a naive model over a pseudo-random sequence of 5,000 adds', () => {
    const heap = createDelayHeap();
    const model = new Map<string, number>();
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 5_000; i++) {
      const key = `k${rand() % 700}`;
      const due = rand() % 10_000;
      heap.add(key, due);
      model.set(key, Math.min(model.get(key) ?? Number.POSITIVE_INFINITY, due));
    }
    const popped = heap.popDue(5_000);
    const expected = [...model].filter(([, due]) => due <= 5_000).sort((x, y) => x[1] - y[1]);
    expect(popped.map((k) => model.get(k))).toEqual(expected.map(([, due]) => due));
    expect(new Set(popped)).toEqual(new Set(expected.map(([k]) => k)));
    expect(heap.size()).toBe(model.size - popped.length);
  });
});
