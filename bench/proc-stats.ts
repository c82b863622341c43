/**
 * CPU time and memory of a server under test and all its descendants, read from /proc: a server
 * may be several processes (Kamailio's workers, a Node cluster), and what it costs is their sum.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The process and its descendants, from the parent pids of every process in /proc. */
export function processTree(rootPid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields !== undefined) parents.set(Number(entry), Number(fields[1]));
  }
  const tree: number[] = [];
  const queue = [rootPid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.pop() ?? 0;
    if (seen.has(pid) || (pid !== rootPid && !parents.has(pid))) continue;
    seen.add(pid);
    tree.push(pid);
    for (const [child, ppid] of parents) if (ppid === pid) queue.push(child);
  }
  return tree;
}

/** Fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11], stime [12]). */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name is in brackets and may hold spaces.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system, ms) of a process and all its descendants. */
export function treeCpuMs(rootPid: number): number {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    const fields = statFields(pid);
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * Memory of a process and its descendants in kB: the proportional set size (PSS, from
 * smaps_rollup), so that pages the processes share (Kamailio's shared memory, a cluster's code)
 * count once, not once per process as their RSS would.
 */
export function treePssKb(rootPid: number): number {
  let kb = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb;
}
