/** NSD as an unprivileged authoritative server on loopback: a lab tool for demos and tests on one machine. */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProgram } from './find-program.js';
import { freePort } from './free-port.js';
import { waitForDnsServer } from './dns-probe.js';
import { stopper } from './stop-child.js';

/** A zone NSD serves; `file` absent means configured but unloadable, which NSD answers SERVFAIL. */
export interface NsdZone {
  readonly origin: string;
  readonly file: string;
}

export interface NsdServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts NSD unprivileged on 127.0.0.1 with a free high port, from `dir` (DESIGN.md recipe), and
 * waits until it answers for `probeZone`. `stop()` ends it and waits for its exit.
 */
export async function startNsd(dir: string, zones: readonly NsdZone[], probeZone: string): Promise<NsdServer> {
  const port = await freePort();
  const config = [
    'server:',
    `  ip-address: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  username: ""',
    '  database: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  server-count: 1',
    '  verbosity: 1',
    'remote-control:',
    '  control-enable: no',
    ...zones.flatMap((z) => ['zone:', `  name: "${z.origin}"`, `  zonefile: "${z.file}"`]),
    '',
  ].join('\n');
  const configFile = join(dir, 'nsd.conf');
  await writeFile(configFile, config);
  const child = spawn(findProgram('nsd', 'nsd'), ['-d', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = stopper(child);
  try {
    await waitForDnsServer(port, probeZone, child, 'nsd');
  } catch (err) {
    await stop();
    const log = await readFile(join(dir, 'nsd.log'), 'utf8').catch(() => '');
    throw new Error(`nsd did not start: ${String(err)}\n${log}`, { cause: err });
  }
  return { port, stop };
}
