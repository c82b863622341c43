/** Stopping a daemon a lab run started (tools for demos and tests on one machine). */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * SIGTERM, then wait for the exit (SIGKILL only if it does not come). Safe to call twice.
 * A daemon that forks (NSD: main, then server parent, then server processes) is also waited for
 * until all its descendants are gone (Linux /proc), so that nothing of it is left when stop resolves.
 */
export function stopper(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      // A program that could not be spawned never exits.
      child.once('error', () => resolve());
    }
  });
  return async () => {
    const descendants = child.pid === undefined ? [] : descendantPids(child.pid);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await waitUntilGone(descendants, 5_000);
  };
}

/** The processes below `pid` (children, their children ...), from /proc; none where /proc is absent. */
function descendantPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const parentOf = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const below = new Set([pid]);
  // Parents may be listed after their children: repeat until no process is added.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, ppid] of parentOf) {
      if (!below.has(p) && below.has(ppid)) {
        below.add(p);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** Polls until none of the pids exists any more (exited and reaped), or the time is up. */
async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
