/**
 * Runs `sipsec proxy` from a loaded configuration: the process wiring (SipStack, proxy core,
 * registrar, location store, logs) that turns a ProxyConfig into a running proxy.
 *
 * NOT BUILT YET: the parts it wires are being written (issue 13); until they are, it refuses to
 * start rather than pretend to run. The integrator replaces this body.
 */
import type { ProxyConfig } from './config.js';

/** What the proxy may touch of its process: output, and the signal that asks it to stop. */
export interface ProxyRunIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted on SIGINT or SIGTERM: stop taking requests, finish transactions, close. */
  readonly signal?: AbortSignal;
}

export class ProxyNotBuiltError extends Error {
  readonly code = 'PROXY_ERR_NOT_BUILT' as const;
  constructor() {
    super('the proxy is not built yet: the configuration is valid, but the process wiring (stack, proxy core, registrar) does not exist in this version; nothing was started');
    this.name = 'ProxyNotBuiltError';
  }
}

/** Runs the proxy until `io.signal` aborts; resolves with the exit code. */
export async function runProxy(config: ProxyConfig, io: ProxyRunIo): Promise<number> {
  void config;
  void io;
  return Promise.reject(new ProxyNotBuiltError());
}
