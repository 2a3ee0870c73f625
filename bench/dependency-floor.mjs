// `node --expose-gc bench/dependency-floor.mjs <module>...`: imports the given modules (the operator's runtime
// dependencies, as the built operator imports them), collects garbage and prints the process's memory as
// one JSON line. The benchmark runs it with the operator's NODE_OPTIONS; its RSS is `rssMiBFloor`, what the
// operator costs before it has run any code of its own. Plain JavaScript: no TypeScript stripper is loaded.
import { readFileSync } from 'node:fs';

for (const specifier of process.argv.slice(2)) await import(specifier);
globalThis.gc?.();
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 500));
const status = readFileSync('/proc/self/status', 'utf8');
const vmRssKiB = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? Number.NaN);
process.stdout.write(`${JSON.stringify({ vmRssKiB, ...process.memoryUsage() })}\n`);
