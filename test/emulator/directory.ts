import { randomUUID } from 'node:crypto';
import { type Account, type AccountKind, parseRancherId } from './model.ts';

/** DEFAULT_PROJECT_ID is the environment the seeded user belongs to. */
export const DEFAULT_PROJECT_ID = '1a5';
/** OTHER_PROJECT_ID is an environment the seeded user does not belong to. */
export const OTHER_PROJECT_ID = '1a6';

function account(dbId: number, name: string, kind: AccountKind, memberOf: string[], now: number): Account {
  const uuid = kind === 'admin' ? 'admin' : randomUUID();
  return { dbId, id: `1a${dbId}`, uuid, name, kind, created: Math.floor(now / 1000) * 1000, memberOf };
}

/** Directory is the fixed set of emulated accounts: an admin, a user, and two environments (projects). */
export class Directory {
  readonly #byDbId = new Map<number, Account>();
  readonly admin: Account;
  readonly user: Account;

  constructor(now: number) {
    this.admin = account(1, 'Admin', 'admin', [], now);
    this.user = account(2, 'user', 'user', [DEFAULT_PROJECT_ID], now);
    const projects = [account(5, 'Default', 'project', [], now), account(6, 'Other', 'project', [], now)];
    for (const a of [this.admin, this.user, ...projects]) this.#byDbId.set(a.dbId, a);
  }

  /** get resolves an account id such as `1a5` (parsed like Cattle: letters are not checked). */
  get(id: string): Account | undefined {
    const dbId = parseRancherId(id);
    return dbId === undefined ? undefined : this.#byDbId.get(dbId);
  }

  /** all lists every account, environments included, in id order. */
  all(): Account[] {
    return [...this.#byDbId.values()];
  }

  /** projects lists the environments in id order. */
  projects(): Account[] {
    return this.all().filter((a) => a.kind === 'project');
  }

  /** canReachProject tells whether an account may act inside an environment through /projects/{pid}. */
  canReachProject(caller: Account, project: Account): boolean {
    if (caller.kind === 'admin') return true;
    if (caller.kind === 'project') return caller.id === project.id;
    return caller.memberOf.includes(project.id);
  }
}
