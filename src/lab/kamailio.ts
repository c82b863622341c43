/**
 * Debian's Kamailio 5.6 as a real SIP peer on loopback: tools for demos, tests and benchmarks on
 * one machine. A mutual-TLS listener on 127.0.0.1 answers OPTIONS 200 statelessly (sl_send_reply)
 * and, when asked, pings targets over TLS with OPTIONS from its dispatcher. Kamailio's TLS module
 * checks the peer's chain only, not its name (PEERS.md). `startKamailioProxy` runs it instead as a
 * stateful record-routing proxy over UDP, the reference the proxy benchmark measures sipsec against.
 * `startKamailioPeer` runs it as the proxy of a SIP domain facing other domains over mutual TLS
 * (docs/PROXY.md, "Kamailio as the peer of a sipsec domain").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForSipUdp, waitForTcp } from './free-port.js';
import { stopper } from './stop-child.js';

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


/**
 * The part of both Kamailio scripts (the benchmark's proxy and the trapezoid's peer) that routes
 * in-dialog requests by their Route set and CANCEL by its transaction, as Debian's sample config does.
 */
const IN_DIALOG_AND_CANCEL: readonly string[] = [
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
];

/** How the process ended: its exit code or the signal that killed it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What every running Kamailio of the lab gives its caller. */
export interface RunningKamailioProcess {
  /** The main process; its children (the workers) are found through /proc. */
  readonly pid: number;
  /** Set once the main process has exited on its own or been stopped. */
  readonly exit: () => ProcessExit | undefined;
  /** The tail of what Kamailio printed, for failure messages. */
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

export interface RunningKamailio extends RunningKamailioProcess {
  readonly tlsPort: number;
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
  /** Stops the process and its workers (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
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
  child.once('exit', (code, signal) => {
    exit = { code, signal };
  });
  // The main process, then its workers: a worker still holding a listener would refuse the next
  // run on the same address.
  const stopProcesses = stopper(child);
  const stop = async (): Promise<void> => {
    await stopProcesses();
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

export interface RunningKamailioProxy extends RunningKamailioProcess {
  readonly address: string;
  readonly port: number;
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
    ...IN_DIALOG_AND_CANCEL,
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

export interface KamailioPeerOptions {
  /** The SIP domain Kamailio is the proxy of, e.g. k.trap.test. */
  readonly domain: string;
  /** Its address: TLS for other domains on `tlsPort` (default 5061), UDP for its own users on `udpPort` (default 5060). */
  readonly address: string;
  readonly tlsPort?: number;
  readonly udpPort?: number;
  /** Its certificate (server and client) and key, and the CA whose certificates it accepts, as PEM. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /**
   * The host name written into its Via sent-by and Record-Route on the TLS listener
   * (`listen=tls:ADDRESS:PORT advertise NAME:PORT`), a name its certificate covers. Left out,
   * Kamailio writes its IP address there, its default.
   */
  readonly advertisedName?: string;
  /**
   * Other domains' proxies, `domain -> host:port`, reached over TLS with the domain as SNI. A static
   * route: Kamailio resolves with the system resolver (/etc/resolv.conf, port 53), which cannot be
   * pointed at a lab's DNS server on another port.
   */
  readonly peers: Readonly<Record<string, string>>;
  /** The domain's users, `user -> host:port` of the user agent over UDP (a static location). */
  readonly users: Readonly<Record<string, string>>;
}

export interface RunningKamailioPeer extends RunningKamailioProcess {
  readonly address: string;
  readonly tlsPort: number;
  readonly udpPort: number;
  /** The tail of its log: one `sipsec-lab:` line per request and per reply over TLS, with the peer's verified certificate. */
  readonly output: () => string;
}

const CFG_WORD = /^[\w.-]+$/;
const HOST_PORT = /^[\w.-]+:\d{1,5}$/;

/**
 * Kamailio as the proxy of a SIP domain, the far proxy of a sipsec domain: a record-routing
 * stateful proxy (tm, rr) with mutual TLS for other domains (the TLS module presents its
 * certificate, and requires and verifies the peer's against the CA, both ways). A request for its
 * domain goes to the user's static address over UDP; a request from one of its users for another
 * domain goes over TLS to that domain's proxy; a request from another domain for a third is refused
 * (no open relay). Its log shows, for each request and reply over TLS, whether Kamailio verified the
 * peer's certificate and the certificate's first DNS name: the TLS module checks the chain only,
 * not the name (README of the tls module, "Known Limitations").
 */
export async function startKamailioPeer(options: KamailioPeerOptions): Promise<RunningKamailioPeer> {
  const words = [options.domain, options.address, ...Object.keys(options.peers), ...Object.keys(options.users), ...(options.advertisedName !== undefined ? [options.advertisedName] : [])];
  const bad = words.find((w) => !CFG_WORD.test(w)) ?? [...Object.values(options.peers), ...Object.values(options.users)].find((v) => !HOST_PORT.test(v));
  if (bad !== undefined) throw new Error(`startKamailioPeer: ${JSON.stringify(bad)} cannot be written into kamailio.cfg (names: letters, digits, ".", "_", "-"; destinations: host:port)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-kamailio-peer-'));
  const { address, domain } = options;
  const tlsPort = options.tlsPort ?? 5061;
  const udpPort = options.udpPort ?? 5060;
  fs.writeFileSync(path.join(dir, 'cert.pem'), options.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), options.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'ca.pem'), options.ca);
  // Both sides verify the peer's chain against ca.pem and insist on a certificate; a client
  // profile per peer sends the peer's domain as SNI.
  const profile = (name: string, serverName?: string): string => [
    `[${name}]`, 'method = TLSv1.2+', 'verify_certificate = yes', 'require_certificate = yes',
    `private_key = ${dir}/key.pem`, `certificate = ${dir}/cert.pem`, `ca_list = ${dir}/ca.pem`,
    ...(serverName !== undefined ? [`server_name = ${serverName}`] : []), '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'tls.cfg'), [
    profile('server:default'),
    profile('client:default'),
    ...Object.entries(options.peers).map(([peer, hostPort]) => profile(`client:${hostPort}`, peer)),
  ].join('\n'));
  const name = options.advertisedName;
  // The name goes where Kamailio would put its TLS socket's address: the Via of what it sends over
  // TLS, and the Record-Route entry of the TLS side. `listen=... advertise NAME:PORT` would do it
  // for every message, but Kamailio 5.6 resolves that name at start and, when it cannot (the lab's
  // names are in the lab's DNS only), starts without the listener: so per request, as
  // set_advertised_address and record_route_preset do (docs/PROXY.md).
  const tlsSide = name !== undefined ? `${name}:${tlsPort};transport=tls;r2=on` : undefined;
  const udpSide = `${address}:${udpPort};r2=on`;
  const peerRoutes = Object.entries(options.peers).flatMap(([peer, hostPort], i) => [
    `  ${i === 0 ? 'if' : '} else if'} ($nh(d) == "${peer}") {`,
    `    $du = "sip:${hostPort};transport=tls";`,
    // From its own address, not whichever the kernel picks for the route (127.0.0.1 on loopback).
    `    force_send_socket(tls:${address}:${tlsPort});`,
    ...(name !== undefined ? [`    set_advertised_address("${name}");`, `    set_advertised_port(${tlsPort});`] : []),
  ]);
  const userRoutes = Object.entries(options.users).flatMap(([user, hostPort], i) => [
    `    ${i === 0 ? 'if' : '} else if'} ($rU == "${user}") {`,
    `      $du = "sip:${hostPort}";`,
  ]);
  const lines = [
    '#!KAMAILIO',
    'debug=2',
    'log_stderror=yes',
    'children=2',
    'tcp_children=2',
    'auto_aliases=no',
    'enable_tls=yes',
    `listen=udp:${address}:${udpPort}`,
    `listen=tls:${address}:${tlsPort}`,
    // Its own Record-Route entries, by name, must be recognised as its own by loose_route.
    ...(name !== undefined ? [`alias=${name}:${tlsPort}`] : []),
    `mpath="${MODULES}"`,
    'loadmodule "tm.so"',
    'loadmodule "sl.so"',
    'loadmodule "rr.so"',
    'loadmodule "maxfwd.so"',
    'loadmodule "siputils.so"',
    'loadmodule "pv.so"',
    'loadmodule "xlog.so"',
    'loadmodule "tls.so"',
    `modparam("tls", "config", "${dir}/tls.cfg")`,
    '',
    'request_route {',
    '  if (!mf_process_maxfwd_header("10")) {',
    '    sl_send_reply("483", "Too Many Hops");',
    '    exit;',
    '  }',
    '  if (proto == TLS) {',
    '    xlog("L_NOTICE", "sipsec-lab: $rm from $si:$sp over TLS, client certificate verified=$tls_peer_verified name=$tls_peer_san_hostname\\n");',
    // The handshake already required a verified certificate; this says so in the script as well.
    '    if (!is_peer_verified()) {',
    '      sl_send_reply("403", "Client Certificate Not Verified");',
    '      exit;',
    '    }',
    '  }',
    ...IN_DIALOG_AND_CANCEL,
    `  if (method == "OPTIONS" && $rU == $null && (uri == myself || $rd == "${domain}")) {`,
    '    sl_send_reply("200", "OK");',
    '    exit;',
    '  }',
    '  t_check_trans();',
    `  if ($rd == "${domain}") {`,
    ...(userRoutes.length > 0 ? [...userRoutes, '    } else {'] : []),
    '      sl_send_reply("404", "Not Found");',
    '      exit;',
    ...(userRoutes.length > 0 ? ['    }'] : []),
    '  } else if (proto == TLS) {',
    '    sl_send_reply("403", "Relaying Denied");',
    '    exit;',
    '  }',
    ...(tlsSide !== undefined
      ? [
        // Double record-routing by hand: the outbound side first, then the inbound side.
        `  if (proto == TLS) {`,
        `    record_route_preset("${udpSide}", "${tlsSide}");`,
        `  } else if ($rd != "${domain}") {`,
        `    record_route_preset("${tlsSide}", "${udpSide}");`,
        '  } else {',
        '    record_route();',
        '  }',
      ]
      : ['  record_route();']),
    '  route(RELAY);',
    '}',
    '',
    'route[RELAY] {',
    ...(peerRoutes.length > 0 ? [...peerRoutes, '  }'] : []),
    '  if (!t_relay()) {',
    '    sl_reply_error();',
    '  }',
    '  exit;',
    '}',
    '',
    'onreply_route {',
    '  if (proto == TLS) {',
    '    xlog("L_NOTICE", "sipsec-lab: reply $rs $rm from $si:$sp over TLS, server certificate verified=$tls_peer_verified name=$tls_peer_san_hostname, our Via $(hdr(Via)[0])\\n");',
    '  }',
    '}',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'kamailio.cfg'), lines.join('\n'));
  const kamailio = spawnKamailio(dir, ['-m', '128', '-M', '16', '-x', 'tlsf']);
  try {
    await waitForSipUdp(address, udpPort, 20_000, () => kamailio.exit() === undefined);
    // Listeners are bound before the workers start, but Kamailio starts even when a listen line
    // failed (an advertised name it could not resolve): the TLS listener is checked on its own.
    if (!await acceptsTcp(address, tlsPort)) throw new Error(`nothing listens on tls ${address}:${tlsPort}`);
  } catch (err) {
    await kamailio.stop();
    throw new Error(`Kamailio (proxy of ${domain}) did not start: ${err instanceof Error ? err.message : String(err)}\n${kamailio.output().slice(-3000)}`);
  }
  return { address, tlsPort, udpPort, pid: kamailio.child.pid ?? 0, exit: kamailio.exit, output: kamailio.output, stop: kamailio.stop };
}

function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
