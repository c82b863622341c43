/**
 * Debian's Kamailio 5.6 as a real SIP peer on loopback: tools for demos, tests and benchmarks on
 * one machine. A mutual-TLS listener on 127.0.0.1 answers OPTIONS 200 statelessly (sl_send_reply)
 * and, when asked, pings targets over TLS with OPTIONS from its dispatcher. Kamailio's TLS module
 * checks the peer's chain only, not its name (PEERS.md).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForTcp } from './free-port.js';

export interface KamailioOptions {
  /** Server (and client) certificate, key and the CA whose peers are accepted, as PEM. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** Destinations the dispatcher pings with OPTIONS every second, e.g. `sip:127.0.0.1:5061;transport=tls`. */
  readonly pingTargets?: readonly string[];
  /** TCP/TLS worker processes (tcp_children); default 2. */
  readonly tcpChildren?: number;
  /** Log one line per request (tests read it on failure; benchmarks must not pay for it). Default false. */
  readonly logRequests?: boolean;
}

/** How the process ended: its exit code or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningKamailio {
  readonly tlsPort: number;
  /** The main process; its children (the workers) are found through /proc. */
  readonly pid: number;
  /** Set once the main process has exited on its own or been stopped. */
  readonly exit: () => ProcessExit | undefined;
  /** The tail of what Kamailio printed, for failure messages. */
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export async function startKamailio(options: KamailioOptions): Promise<RunningKamailio> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-kamailio-'));
  const tlsPort = await freePort();
  fs.writeFileSync(path.join(dir, 'cert.pem'), options.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), options.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'ca.pem'), options.ca);
  const side = (name: string): string =>
    [`[${name}:default]`, 'method = TLSv1.2+', 'verify_certificate = yes', 'require_certificate = yes',
      `private_key = ${dir}/key.pem`, `certificate = ${dir}/cert.pem`, `ca_list = ${dir}/ca.pem`, ''].join('\n');
  fs.writeFileSync(path.join(dir, 'tls.cfg'), `${side('server')}\n${side('client')}`);
  const targets = options.pingTargets ?? [];
  fs.writeFileSync(path.join(dir, 'dispatcher.list'), targets.map((t) => `1 ${t}\n`).join(''));
  const lines = [
    '#!KAMAILIO',
    'debug=2',
    'log_stderror=yes',
    'children=1',
    `tcp_children=${options.tcpChildren ?? 2}`,
    'auto_aliases=no',
    'enable_tls=yes',
    `listen=tls:127.0.0.1:${tlsPort}`,
    `mpath="${MODULES}"`,
    'loadmodule "tm.so"',
    'loadmodule "sl.so"',
    'loadmodule "pv.so"',
    'loadmodule "xlog.so"',
    'loadmodule "tls.so"',
    `modparam("tls", "config", "${dir}/tls.cfg")`,
    ...(targets.length > 0
      ? ['loadmodule "dispatcher.so"', `modparam("dispatcher", "list_file", "${dir}/dispatcher.list")`,
        'modparam("dispatcher", "ds_ping_interval", 1)', 'modparam("dispatcher", "ds_probing_mode", 1)',
        'modparam("dispatcher", "ds_ping_from", "sip:kamailio@kamailio.test")']
      : []),
    '',
    'request_route {',
    ...(options.logRequests === true ? ['  xlog("L_INFO", "sipsec-lab: $rm from $si:$sp over $pr\\n");'] : []),
    '  if (method == "OPTIONS") {',
    '    sl_send_reply("200", "OK");',
    '    exit;',
    '  }',
    '  sl_send_reply("404", "Not Here");',
    '}',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), lines.join('\n'));
  // Shared memory with the TLSF manager: Debian's default q_malloc runs debug checks on every
  // allocation, seen here to cost about 7 ms of CPU per TLS connection against 1.5 ms with TLSF.
  const child = spawn('kamailio', ['-f', path.join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-w', dir, '-m', '128', '-M', '16', '-x', 'tlsf'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    // Only the tail matters for a report; a crash can print a lot.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: ProcessExit | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (exit === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(tlsPort, 20_000, () => exit === undefined);
  } catch (err) {
    await stop();
    throw new Error(`Kamailio did not start: ${err instanceof Error ? err.message : String(err)}\n${output.slice(-3000)}`);
  }
  return { tlsPort, pid: child.pid ?? 0, exit: () => exit, output: () => output, stop };
}
