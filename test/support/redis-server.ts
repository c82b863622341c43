/**
 * Debian's redis-server for tests, on a loopback address of the test's own: started with an
 * append-only file in `dir` (so that its data outlives a restart on the same port), stopped and
 * started again at will, never left running.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { findProgram } from '../../src/lab/find-program.js';
import { stopper } from '../../src/lab/stop-child.js';

export interface RedisServer {
  readonly url: string;
  /** Starts it (again); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it; safe when it is not running. */
  stop(): Promise<void>;
}

export function redisServer(host: string, port: number, dir: string, timeoutMs = 10_000): RedisServer {
  let stop: (() => Promise<void>) | undefined;
  return {
    url: `redis://${host}:${port}/0`,
    async start() {
      const child = spawn(findProgram('redis-server', 'redis-server'), [
        '--bind', host, '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
        '--protected-mode', 'no', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log'),
      ], { stdio: 'ignore' });
      stop = stopper(child);
      await listening(host, port, timeoutMs);
    },
    async stop() {
      const running = stop;
      stop = undefined;
      await running?.();
    },
  };
}

async function listening(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not listen on ${host}:${port} within ${timeoutMs} ms`);
}
