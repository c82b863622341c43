import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForTcp } from './free-port.js';

export interface KamailioOptions {
  /** Server (and client) certificate chain, key and the CA that both sides trust, as PEM. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** Destinations Kamailio's dispatcher pings with OPTIONS every second (RFC 3261 URIs). */
  readonly pingTargets?: readonly string[];
}

export interface RunningKamailio {
  readonly tlsPort: number;
  readonly dir: string;
  /** What Kamailio printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

/**
 * Starts Debian's Kamailio 5.6 on 127.0.0.1 with a TLS listener that requires and verifies client
 * certificates (mutual TLS), answering OPTIONS with 200 and pinging `pingTargets` over TLS with
 * its client certificate. Kamailio's TLS module checks the chain only, not names (PEERS.md).
 */
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
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=2
auto_aliases=no
enable_tls=yes
listen=tls:127.0.0.1:${tlsPort}
mpath="${MODULES}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "tls.so"
${targets.length > 0 ? 'loadmodule "dispatcher.so"' : ''}
modparam("tls", "config", "${dir}/tls.cfg")
${targets.length > 0 ? `modparam("dispatcher", "list_file", "${dir}/dispatcher.list")
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_ping_from", "sip:kamailio@kamailio.test")` : ''}

request_route {
  xlog("L_INFO", "sipsec-test: $rm from $si:$sp over $pr\\n");
  if (method == "OPTIONS") {
    sl_send_reply("200", "OK");
    exit;
  }
  sl_send_reply("404", "Not Here");
}
`);
  const child: ChildProcess = spawn('kamailio', ['-f', path.join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-w', dir, '-m', '64', '-M', '8'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(tlsPort, 20_000, () => !exited);
  } catch (err) {
    await stop();
    throw new Error(`Kamailio did not start: ${err instanceof Error ? err.message : String(err)}\n${output.slice(-3000)}`);
  }
  return { tlsPort, dir, output: () => output, stop };
}
