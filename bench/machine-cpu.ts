import { readdir, readFile } from 'node:fs/promises';

// Where the machine's CPU goes during a phase, by process, from /proc (Linux only): it tells whether a burst
// is limited by the operator or by the control plane sharing its cores.

/** CLOCK_TICKS is USER_HZ, the unit of /proc times; it is 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** CONTROL_PLANE maps a process name (/proc/PID/comm) to the name the report gives it. */
const CONTROL_PLANE: Record<string, string> = {
  'kube-apiserver': 'apiserver',
  etcd: 'etcd',
  'kube-controller': 'controllerManager',
};

/** CpuSnapshot is the machine's busy and total ticks and each named process's ticks at one moment. */
export interface CpuSnapshot {
  at: number;
  machineBusy: number;
  machineTotal: number;
  processes: Map<string, number>;
}

/** CpuShare is a phase's CPU: cores used per process (CPU seconds ÷ wall seconds) and the machine's busy share. */
export interface CpuShare {
  /** coresByProcess: e.g. { operator: 0.45, apiserver: 0.9, etcd: 0.2, ... }, processes summed by name. */
  coresByProcess: Record<string, number>;
  /** machineBusyFraction is 1 − idle share over all cores (iowait counts as idle). */
  machineBusyFraction: number;
  cores: number;
}

async function processTicks(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // comm may hold spaces or parentheses: fields are counted after the last ')'. utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function processName(pid: string): Promise<string | undefined> {
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => undefined);
  return comm === undefined ? undefined : CONTROL_PLANE[comm.trim()];
}

async function machineTicks(): Promise<{ busy: number; total: number; cores: number }> {
  const lines = (await readFile('/proc/stat', 'utf8')).split('\n');
  const all = (lines[0] ?? '').split(/\s+/).slice(1).map(Number);
  const total = all.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal; guest is already inside user
  const idle = (all[3] ?? 0) + (all[4] ?? 0);
  const cores = lines.filter((l) => /^cpu\d/.test(l)).length;
  return { busy: total - idle, total, cores };
}

/**
 * cpuSnapshot reads /proc for the control plane's processes (found by name) and the `named` pids
 * (the operator, the emulator, the benchmark itself). Off Linux it returns an empty snapshot.
 */
export async function cpuSnapshot(named: Record<string, number | undefined>): Promise<CpuSnapshot> {
  const processes = new Map<string, number>();
  const add = (name: string, ticks: number | undefined) => {
    if (ticks !== undefined) processes.set(name, (processes.get(name) ?? 0) + ticks);
  };
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const name = await processName(pid);
    if (name) add(name, await processTicks(Number(pid)));
  }
  for (const [name, pid] of Object.entries(named)) if (pid && pid > 0) add(name, await processTicks(pid));
  const m = await machineTicks().catch(() => ({ busy: 0, total: 0, cores: 0 }));
  return { at: performance.now(), machineBusy: m.busy, machineTotal: m.total, processes };
}

/** cpuShare is what each process used between two snapshots, in cores. */
export function cpuShare(before: CpuSnapshot, after: CpuSnapshot): CpuShare {
  const seconds = (after.at - before.at) / 1000;
  const coresByProcess: Record<string, number> = {};
  for (const [name, ticks] of after.processes) {
    const used = (ticks - (before.processes.get(name) ?? ticks)) / CLOCK_TICKS;
    coresByProcess[name] = seconds > 0 ? Math.round((used / seconds) * 100) / 100 : 0;
  }
  const total = after.machineTotal - before.machineTotal;
  const busy = after.machineBusy - before.machineBusy;
  const cores = Math.round(total / CLOCK_TICKS / Math.max(seconds, 1e-9));
  return {
    coresByProcess,
    machineBusyFraction: total > 0 ? Math.round((busy / total) * 100) / 100 : 0,
    cores,
  };
}
