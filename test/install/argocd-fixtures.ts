import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** FIXTURE_DIR holds live objects captured by test/e2e/gitops-status.test.ts (CAPTURE_ARGOCD_FIXTURES=1). */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'argocd-fixtures');

/** Fixture is one captured object with the kstatus and the Argo CD health the e2e run saw for it. */
export interface Fixture {
  name: string;
  kstatus: string;
  health: { status: string; message: string };
  object: { kind: string; metadata: Record<string, unknown>; status?: Record<string, unknown> };
}

/** fixtures reads every captured fixture. */
export function fixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      ...(JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as Omit<Fixture, 'name'>),
    }));
}
