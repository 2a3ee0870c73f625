// `node bench/profile-summary.ts <file.cpuprofile> [top]`: self and inclusive time by function and by package,
// to read an operator profile taken with `npm run bench -- --cpu-prof-dir DIR`.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

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

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = ProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const byId = new Map<number, Node>(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
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
process.stdout.write(`total sampled ${(total / 1e6).toFixed(1)} s\n`);
show('self time by package', pkgSelf);
show('self time by function', fnSelf);
show('inclusive time by function', fnIncl);
