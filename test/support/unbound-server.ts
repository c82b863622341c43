import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProgram } from '../../src/lab/find-program.js';
import { freePort } from '../../src/lab/free-port.js';
import { waitForDnsServer } from '../../src/lab/dns-probe.js';
import { stopper } from '../../src/lab/stop-child.js';

export interface UnboundServer {
  readonly port: number;
  stop(): Promise<void>;
}

export interface UnboundServerOptions {
  /** Lines for the `server:` clause: trust anchors, local zones. */
  readonly serverLines: readonly string[];
  /** `stub-zone:` clauses (and anything else that goes after `server:`). */
  readonly stubLines: readonly string[];
  /** Whether to send Extended DNS Errors (RFC 8914) with SERVFAIL. */
  readonly ede: boolean;
  /** A zone to probe for readiness. */
  readonly probeZone: string;
}

/**
 * Starts Debian's `unbound` as a validating resolver on a free loopback port, unprivileged, from a
 * temporary folder (no chroot, no user change, no remote control), and waits until it answers.
 */
export async function startUnbound(options: UnboundServerOptions): Promise<UnboundServer> {
  const dir = await mkdtemp(join(tmpdir(), 'sipsec-unbound-'));
  const port = await freePort();
  const config = [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  num-threads: 1',
    '  do-daemonize: no',
    '  access-control: 127.0.0.0/8 allow',
    '  do-not-query-localhost: no',
    '  module-config: "validator iterator"',
    '  infra-cache-max-rtt: 1000',
    `  ede: ${options.ede ? 'yes' : 'no'}`,
    '  val-log-level: 2',
    ...options.serverLines,
    'remote-control:',
    '  control-enable: no',
    ...options.stubLines,
    '',
  ].join('\n');
  const configFile = join(dir, 'unbound.conf');
  await writeFile(configFile, config);
  const child = spawn(findProgram('unbound', 'unbound'), ['-d', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stopChild = stopper(child);
  const stop = async (): Promise<void> => {
    await stopChild();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForDnsServer(port, options.probeZone, child, 'unbound');
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop };
}
