/**
 * Debian's Kamailio 5.6 as a benchmark peer: a mutual-TLS listener on 127.0.0.1 answering OPTIONS
 * 200 statelessly (sl_send_reply), like test/support/kamailio-server.ts but without its per-request
 * xlog line (a log write per request would be charged to Kamailio's figure), with the TLSF shared
 * memory manager, and reporting how the process ended, so that a crash under connection churn (the
 * 5.6.3 TLS double-free with OpenSSL 3, DESIGN.md) is reported as what happened.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForTcp } from '../test/support/free-port.js';

export interface BenchKamailioOptions {
  /** Server (and client) certificate, key and the CA whose clients are accepted, as PEM. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** TCP/TLS worker processes (Kamailio's tcp_children). */
  readonly tcpChildren: number;
}

/** How a server process ended: its exit code or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface BenchKamailio {
  readonly tlsPort: number;
  /** The main process; its children (the TCP workers) are found through /proc. */
  readonly pid: number;
  /** Set once the main process has exited on its own or been stopped. */
  readonly exit: () => ProcessExit | undefined;
  /** What Kamailio printed, for failure messages. */
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export async function startBenchKamailio(options: BenchKamailioOptions): Promise<BenchKamailio> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-bench-kamailio-'));
  const tlsPort = await freePort();
  fs.writeFileSync(path.join(dir, 'cert.pem'), options.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), options.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'ca.pem'), options.ca);
  const side = (name: string): string =>
    [`[${name}:default]`, 'method = TLSv1.2+', 'verify_certificate = yes', 'require_certificate = yes',
      `private_key = ${dir}/key.pem`, `certificate = ${dir}/cert.pem`, `ca_list = ${dir}/ca.pem`, ''].join('\n');
  fs.writeFileSync(path.join(dir, 'tls.cfg'), `${side('server')}\n${side('client')}`);
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), `#!KAMAILIO
debug=1
log_stderror=yes
children=1
tcp_children=${options.tcpChildren}
auto_aliases=no
enable_tls=yes
listen=tls:127.0.0.1:${tlsPort}
mpath="${MODULES}"
loadmodule "sl.so"
loadmodule "tls.so"
modparam("tls", "config", "${dir}/tls.cfg")

request_route {
  if (method == "OPTIONS") {
    sl_send_reply("200", "OK");
    exit;
  }
  sl_send_reply("404", "Not Here");
}
`);
  // Shared memory (where the TLS module keeps OpenSSL's allocations) with the TLSF manager: Debian's
  // default q_malloc build runs debug checks on every allocation, seen here to cost Kamailio about
  // 7 ms of CPU per TLS connection against 1.5 ms with TLSF. The benchmark compares with Kamailio at its best.
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
