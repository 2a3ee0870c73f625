// `node bench/profile-summary.ts <file.cpuprofile> [top] [--window FROM-TO]`: self and inclusive time by
// function and by package, to read an operator profile taken with `npm run bench -- --cpu-prof-dir DIR`.
// Percentages are of the busy time (idle left out); `--window 9-28` keeps the samples taken between 9 s and
// 28 s after the profile started (for example the burst alone), and a timeline of busy ms per second helps
// find that window.
// `node bench/profile-summary.ts <zero.heapsnapshot> <converged.heapsnapshot> [keys] [top]`: what the heap
// holds by object kind, and what grew between two snapshots (per key when `keys` is given), from
// `npm run bench -- --heap-snapshot-dir DIR`. Strings are counted by kind only: their text is never printed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const HeapSnapshotSchema = z.object({
  snapshot: z.object({
    meta: z.object({ node_fields: z.array(z.string()), node_types: z.array(z.unknown()) }),
  }),
  nodes: z.array(z.number()),
  strings: z.array(z.string()),
});

// Node kinds whose name is the value itself (string text, a number): grouped by kind, never by name.
const NAMELESS = new Set(['string', 'concatenated string', 'sliced string', 'number', 'symbol', 'bigint']);

/** heapByKind sums self size and count per `type name` (for example `object V1Secret`, `closure list`). */
function heapByKind(file: string): Map<string, { bytes: number; count: number }> {
  const snap = HeapSnapshotSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const [t, n, sz] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + t] ?? 0] ?? '?';
    const name = NAMELESS.has(type) ? '' : (snap.strings[snap.nodes[i + n] ?? 0] ?? '').slice(0, 60);
    const key = name ? `${type} ${name}` : type;
    const e = out.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += snap.nodes[i + sz] ?? 0;
    e.count++;
    out.set(key, e);
  }
  return out;
}

function heapSummary(zero: string, converged: string | undefined, keys: number, top: number): void {
  const a = heapByKind(zero);
  const b = converged ? heapByKind(converged) : new Map<string, { bytes: number; count: number }>();
  const rows = converged
    ? [...b].map(([k, v]) => {
        const was = a.get(k) ?? { bytes: 0, count: 0 };
        return [k, v.bytes - was.bytes, v.count - was.count] as const;
      })
    : [...a].map(([k, v]) => [k, v.bytes, v.count] as const);
  const total = rows.reduce((s, r) => s + r[1], 0);
  const per = converged && keys > 0 ? ` per key (${keys} keys)` : '';
  process.stdout.write(
    `${converged ? 'heap growth' : 'heap'}${per}: ${(total / keys / 1024).toFixed(2)} KiB, by kind (self size, count):\n`,
  );
  for (const [k, bytes, count] of [...rows].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    process.stdout.write(
      `${(bytes / keys).toFixed(0).padStart(10)} B ${(count / keys).toFixed(2).padStart(9)}  ${k}\n`,
    );
  }
}

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

type Node = z.infer<typeof ProfileSchema>['nodes'][number];

function where(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  return nm >= 0 ? url.slice(nm + 'node_modules/'.length) : bucket(url);
}

function bucket(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.includes('/src/')) return `src/${url.split('/src/')[1] ?? ''}`;
  if (url.startsWith('node:')) return url;
  return url === '' ? '(native/gc/idle)' : url;
}

const args = process.argv.slice(2);
if (args[0]?.endsWith('.heapsnapshot')) {
  const second = args[1]?.endsWith('.heapsnapshot') ? args[1] : undefined;
  const rest = args.slice(second ? 2 : 1);
  const [keys, top] = second ? [Number(rest[0] ?? 1), Number(rest[1] ?? 30)] : [1, Number(rest[0] ?? 30)];
  heapSummary(args[0], second, keys, top);
  process.exit(0);
}
const windowAt = args.indexOf('--window');
const [fromS, toS] = windowAt >= 0 ? (args[windowAt + 1] ?? '').split('-').map(Number) : [];
if (windowAt >= 0) args.splice(windowAt, 2);
const [file, topArg] = args;
if (!file) {
  process.stderr.write(
    'usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n' +
      '       node bench/profile-summary.ts <a.heapsnapshot> [<b.heapsnapshot> keys] [top]\n',
  );
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = ProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const byId = new Map<number, Node>(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
const busyPerSecond: number[] = [];
let at = 0;
for (const [i, id] of profile.samples.entries()) {
  const us = profile.timeDeltas[i] ?? 0;
  at += us;
  const second = Math.floor(at / 1e6);
  const idle = byId.get(id)?.callFrame.functionName === '(idle)';
  if (!idle) busyPerSecond[second] = (busyPerSecond[second] ?? 0) + us / 1000;
  if (fromS !== undefined && (second < fromS || second >= (toS ?? Number.POSITIVE_INFINITY))) continue;
  if (!idle) self.set(id, (self.get(id) ?? 0) + us);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnSelf = new Map<string, number>();
const pkgSelf = new Map<string, number>();
const fnIncl = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id);
  if (!n) continue;
  const name = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fnSelf.set(name, (fnSelf.get(name) ?? 0) + us);
  const pkg = bucket(n.callFrame.url).replace(/^(src\/[^/]+)\/.*$/, '$1');
  pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur);
    if (!c) break;
    const cname = `${c.callFrame.functionName || '(anonymous)'} ${where(c.callFrame.url)}:${c.callFrame.lineNumber + 1}`;
    if (seen.has(cname)) continue;
    seen.add(cname);
    fnIncl.set(cname, (fnIncl.get(cname) ?? 0) + us);
  }
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${(v / 1000).toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`,
    );
  }
};
process.stdout.write(
  `busy ms per second: ${Array.from(busyPerSecond, (ms, i) => `${i}:${Math.round(ms ?? 0)}`).join(' ')}\n`,
);
const span = fromS === undefined ? '' : ` between ${fromS} s and ${toS ?? 'the end'} s`;
process.stdout.write(`busy (not idle) ${(total / 1e6).toFixed(2)} s${span}\n`);
show('self time by package', pkgSelf);
show('self time by function', fnSelf);
show('inclusive time by function', fnIncl);
