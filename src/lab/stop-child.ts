/** Stopping a daemon a lab run started (tools for demos and tests on one machine). */
import type { ChildProcess } from 'node:child_process';

/** SIGTERM, then wait for the exit (SIGKILL only if it does not come). Safe to call twice. */
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
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}
