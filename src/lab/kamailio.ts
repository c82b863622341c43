/**
 * Debian's Kamailio 5.6 as a real SIP peer on loopback: tools for demos, tests and benchmarks on
 * one machine. A mutual-TLS listener on 127.0.0.1 answers OPTIONS 200 statelessly (sl_send_reply)
 * and, when asked, pings targets over TLS with OPTIONS from its dispatcher. Kamailio's TLS module
 * checks the peer's chain only, not its name (PEERS.md). `startKamailioProxy` runs it instead as a
 * stateful record-routing proxy over UDP, the reference the proxy benchmark measures sipsec against.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForSipUdp, waitForTcp } from './free-port.js';

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
  const { child, exit, output, stop } = spawnKamailio(dir, ['-m', '128', '-M', '16', '-x', 'tlsf']);
  try {
    await waitForTcp(tlsPort, 20_000, () => exit() === undefined);
  } catch (err) {
    await stop();
    throw new Error(`Kamailio did not start: ${err instanceof Error ? err.message : String(err)}\n${output().slice(-3000)}`);
  }
  return { tlsPort, pid: child.pid ?? 0, exit, output, stop };
}

interface KamailioProcess {
  readonly child: ChildProcess;
  readonly exit: () => ProcessExit | undefined;
  readonly output: () => string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  readonly stop: () => Promise<void>;
}

/** Starts `kamailio -f DIR/kamailio.cfg` in the foreground, keeping the tail of its output. */
function spawnKamailio(dir: string, memoryArgs: readonly string[]): KamailioProcess {
  const child = spawn('kamailio', ['-f', path.join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-w', dir, ...memoryArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    // Only the tail matters for a report; a crash can print a lot.
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
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
  return { child, exit: () => exit, output: () => output, stop };
}

export interface KamailioProxyOptions {
  /** The UDP listener, e.g. 127.0.0.1; the port is picked free unless given. */
  readonly address: string;
  readonly port?: number;
  /**
   * Where every initial request goes (`host:port`), whatever its Request-URI; without it the
   * Request-URI's host and port decide. In-dialog requests always follow their Route set.
   */
  readonly forwardTo?: string;
  /** UDP worker processes (children); default 2. */
  readonly children?: number;
  /**
   * How long an INVITE may ring before the proxy gives up (tm's fr_inv_timer, Kamailio's Timer C):
   * it then CANCELs the branch and answers 408. Default: tm's own (120 s).
   */
  readonly inviteTimeoutMs?: number;
  /**
   * Challenge every initial request except ACK and CANCEL with 407 (digest MD5, qop=auth, in this
   * realm) and relay it only with this user's Proxy-Authorization, as a domain's proxy does for its
   * own users' calls out (RFC 3261 section 22.3). Default: no authentication.
   */
  readonly proxyAuth?: { readonly realm: string; readonly user: string; readonly password: string };
}

export interface RunningKamailioProxy {
  readonly address: string;
  readonly port: number;
  /** The main process; its children (the workers) are found through /proc. */
  readonly pid: number;
  readonly exit: () => ProcessExit | undefined;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/**
 * Kamailio as a transaction-stateful record-routing proxy over UDP, the usual minimal
 * configuration: maxfwd (483), record_route on every initial request, loose_route for in-dialog
 * requests, t_relay (tm) for everything, CANCEL matched to its INVITE, ACK of a non-2xx absorbed
 * by its transaction. No database, no per-request log, and no authentication unless `proxyAuth`. Answers OPTIONS for
 * itself (no user part) with 200, which is how readiness is checked.
 */
export async function startKamailioProxy(options: KamailioProxyOptions): Promise<RunningKamailioProxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-kamailio-proxy-'));
  const address = options.address;
  const port = options.port ?? await freePort(address);
  const auth = options.proxyAuth;
  if (auth !== undefined && [auth.realm, auth.user, auth.password].some((v) => !/^[\w.@-]+$/.test(v))) {
    throw new Error('proxyAuth: realm, user and password must be letters, digits, ".", "@", "_" or "-" (they are written into kamailio.cfg)');
  }
  const lines = [
    '#!KAMAILIO',
    // Warnings and errors only: a log line per request would be measured with the proxy.
    'debug=1',
    'log_stderror=yes',
    `children=${options.children ?? 2}`,
    'auto_aliases=no',
    'disable_tcp=yes',
    `listen=udp:${address}:${port}`,
    `mpath="${MODULES}"`,
    'loadmodule "tm.so"',
    'loadmodule "sl.so"',
    'loadmodule "rr.so"',
    'loadmodule "maxfwd.so"',
    'loadmodule "siputils.so"',
    'loadmodule "pv.so"',
    ...(options.inviteTimeoutMs !== undefined ? [`modparam("tm", "fr_inv_timer", ${Math.round(options.inviteTimeoutMs)})`] : []),
    ...(auth !== undefined ? ['loadmodule "auth.so"'] : []),
    '',
    'request_route {',
    '  if (!mf_process_maxfwd_header("10")) {',
    '    sl_send_reply("483", "Too Many Hops");',
    '    exit;',
    '  }',
    '  if (has_totag()) {',
    '    if (loose_route()) {',
    '      route(RELAY);',
    '    }',
    '    if (method == "ACK" && t_check_trans()) {',
    '      route(RELAY);',
    '    }',
    '    if (method != "ACK") {',
    '      sl_send_reply("404", "Not Here");',
    '    }',
    '    exit;',
    '  }',
    '  if (method == "CANCEL") {',
    '    if (t_check_trans()) {',
    '      route(RELAY);',
    '    }',
    '    exit;',
    '  }',
    '  if (method == "OPTIONS" && uri == myself && $rU == $null) {',
    '    sl_send_reply("200", "OK");',
    '    exit;',
    '  }',
    ...(auth !== undefined
      ? [
        // ACK has a To tag by then; CANCEL was handled above: neither can be challenged. Flags: the
        // password is plain (0, not HA1); the challenge offers qop=auth (1).
        `  if (!pv_proxy_authenticate("${auth.realm}", "${auth.password}", "0") || $au != "${auth.user}") {`,
        `    proxy_challenge("${auth.realm}", "1");`,
        '    exit;',
        '  }',
        '  consume_credentials();',
      ]
      : []),
    // A retransmitted initial request is answered by its transaction and goes no further.
    '  t_check_trans();',
    '  record_route();',
    ...(options.forwardTo !== undefined ? [`  $du = "sip:${options.forwardTo}";`] : []),
    '  route(RELAY);',
    '}',
    '',
    'route[RELAY] {',
    '  if (!t_relay()) {',
    '    sl_reply_error();',
    '  }',
    '  exit;',
    '}',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), lines.join('\n'));
  // TLSF for both memory pools: Debian's default q_malloc runs debug checks on every allocation,
  // which is not what a production Kamailio pays.
  const kamailio = spawnKamailio(dir, ['-m', '256', '-M', '16', '-x', 'tlsf', '-X', 'tlsf']);
  try {
    await waitForSipUdp(address, port, 20_000, () => kamailio.exit() === undefined);
  } catch (err) {
    await kamailio.stop();
    throw new Error(`Kamailio proxy did not start: ${err instanceof Error ? err.message : String(err)}\n${kamailio.output().slice(-3000)}`);
  }
  return { address, port, pid: kamailio.child.pid ?? 0, exit: kamailio.exit, output: kamailio.output, stop: kamailio.stop };
}
