import { spawn } from 'node:child_process';
import os from 'node:os';

export interface SippRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs SIPp (Debian sip-tester) to completion in a temporary working directory (it writes its
 * logs there) with a hard deadline: a SIPp that hangs is killed and reported, never waited on.
 */
export function runSipp(args: readonly string[], deadlineMs = 60_000): { done: Promise<SippRun>; kill: () => void } {
  const child = spawn('sipp', [...args, '-nostdin'], { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const done = new Promise<SippRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}
