/**
 * SIP over TLS on loopback, sipsec beside Kamailio in the same run: OPTIONS per second through one
 * persistent mutual-TLS connection, and new verified TLS connections per second (handshake, RFC 5922
 * verification of the server, one OPTIONS/200, close), with a plain Node TLS connect as baseline.
 * Both servers are separate processes with the same certificate; the client is the same for both,
 * so only the server differs. Writes its section of docs/BENCHMARKS.md between the `transport-tls`
 * markers.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type SecureContext, type TLSSocket } from 'node:tls';
import { serializeMessage } from '../src/sip/serialize-message.js';
import { StreamFramer } from '../src/sip/stream-framer.js';
import { parseSipUri } from '../src/sip/uri.js';
import { TrustStore } from '../src/tls/trust-store.js';
import { SecureContextCache } from '../src/transport/secure-context-cache.js';
import { connectAndVerify } from '../src/transport/tls-connect.js';
import { buildRequest } from '../src/ua/build-request.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../src/lab/certificates.js';
import { startKamailio as startLabKamailio, type ProcessExit } from '../src/lab/kamailio.js';
import { machineLine, writeReportSection } from './markdown-report.js';
import { CLOCK_TICKS, treeCpuMs } from './proc-stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const DOMAIN = 'bench.test';

/** Persistent connection: requests kept outstanding, and the bounds of one measured cell. */
const WINDOW = 32;
const PIPELINE_WARMUP = 2_000;
const PIPELINE_MAX_REQUESTS = 250_000;
const PIPELINE_BUDGET_MS = Number(process.env.SIPSEC_BENCH_MS ?? 600) * 4;
const PIPELINE_ROUNDS = 3;
/** Connection churn: kept small because Kamailio 5.6.3's TLS module crashes under heavy churn. */
const CHURN_CONNECTIONS = 100;
const CHURN_ROUNDS = 2;
const CHURN_CONCURRENCY = 4;
const CHURN_BUDGET_MS = 30_000;
/** Any single exchange that takes longer than this has stalled. */
const STALL_MS = 5_000;

const ca = issueCertificate({ cn: 'Bench Transport CA', ca: true });
const eku = [EKU_SERVER_AUTH, EKU_CLIENT_AUTH];
// One server certificate for both servers, so that the handshakes do the same cryptography.
const serverCert = issueCertificate({ cn: DOMAIN, issuer: ca, san: { uri: [`sip:${DOMAIN}`], dns: [DOMAIN] }, eku });
const clientCert = issueCertificate({ cn: 'client.bench.test', issuer: ca, san: { uri: ['sip:client.bench.test'], dns: ['client.bench.test'] }, eku });
const trustStore = TrustStore.fromPem(ca.pem);
const contexts = new SecureContextCache();
const clientIdentity = { cert: clientCert.pem, key: clientCert.keyPem };
const clientContext: SecureContext = contexts.get(clientIdentity);

type ServerName = 'sipsec' | 'kamailio' | 'node';
const SERVER_LABELS: Readonly<Record<ServerName, string>> = {
  sipsec: 'sipsec Responder',
  kamailio: 'Kamailio 5.6 `sl_send_reply`',
  node: 'bare Node TLS server (reference)',
};

/** A server under test: a process of its own, whose CPU time is read from /proc. */
interface ServerProcess {
  readonly name: ServerName;
  readonly port: number;
  readonly pid: number;
  readonly exit: () => ProcessExit | undefined;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

async function startNodeServer(kind: 'sipsec' | 'node'): Promise<ServerProcess> {
  const child = spawn(process.execPath, [path.join(HERE, 'responder-process.js')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SIPSEC_BENCH_RESPONDER: JSON.stringify({ kind, cert: serverCert.pem, key: serverCert.keyPem, ca: ca.pem, domain: DOMAIN }) },
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  let exit: ProcessExit | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    resolve();
  }));
  const stop = async (): Promise<void> => {
    if (exit !== undefined) return;
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  const port = await new Promise<number>((resolve, reject) => {
    let line = '';
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start\n${output}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      line += chunk.toString();
      if (!line.includes('\n')) return;
      clearTimeout(timer);
      resolve(Number(line.trim()));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited before listening\n${output}`));
    });
  });
  return { name: kind, port, pid: child.pid ?? 0, exit: () => exit, output: () => output, stop };
}

async function startKamailio(): Promise<ServerProcess> {
  // Two TCP workers: Kamailio's way of using the 2 cores; one persistent connection stays on one worker.
  const k = await startLabKamailio({ cert: serverCert.pem, key: serverCert.keyPem, ca: ca.pem, tcpChildren: 2 });
  return { name: 'kamailio', port: k.tlsPort, pid: k.pid, exit: k.exit, output: k.output, stop: k.stop };
}

/**
 * OPTIONS as sipsec's buildRequest makes it, serialized once; each request gets its own branch and
 * Call-ID by substitution, so the sipsec Responder sees new transactions, not retransmissions.
 */
function optionsTemplate(): (n: number) => Buffer {
  const request = buildRequest({
    method: 'OPTIONS',
    uri: parseSipUri(`sips:${DOMAIN}`),
    from: 'sip:bench@client.bench.test',
    via: { transport: 'tls', host: '127.0.0.1' },
    userAgent: 'sipsec-bench',
  });
  const text = serializeMessage(request).toString('latin1');
  const branch = /;branch=([^;\s]+)/.exec(text)?.[1];
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
  if (branch === undefined || callId === undefined) throw new Error('bench setup: no branch or Call-ID in the built request');
  const [head = '', middle = '', tail = ''] = text.replace(branch, '\u0000').replace(callId, '\u0000').split('\u0000');
  return (n) => Buffer.from(`${head}${branch}.${n}${middle}${n}.${callId}${tail}`, 'latin1');
}
const requestBytes = optionsTemplate();
let requestCounter = 0;

/** What a framed response is, from its status line alone (the client does not parse further). */
function statusOf(bytes: Buffer): number {
  return bytes.subarray(0, 8).toString('latin1') === 'SIP/2.0 ' ? Number(bytes.subarray(8, 11).toString('latin1')) : 0;
}

function waitSecure(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('TLS handshake stalled')), STALL_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('closed during the handshake')));
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error').removeAllListeners('close');
      resolve();
    });
  });
}

function plainConnect(port: number): Promise<TLSSocket> {
  const socket = connect({ host: '127.0.0.1', port, secureContext: clientContext, rejectUnauthorized: false, servername: DOMAIN });
  return waitSecure(socket).then(() => socket);
}

interface PipelineResult {
  readonly ok: number;
  readonly failed: number;
  readonly ms: number;
  readonly serverCpuMs: number;
  readonly clientCpuMs: number;
  readonly protocol: string;
  readonly stalled: boolean;
}

/**
 * Keeps WINDOW requests outstanding on one connection until `count` were answered or the budget is
 * spent (then the outstanding ones are drained). Resolves on completion, stall or connection loss.
 */
function drive(socket: TLSSocket, count: number, budgetMs: number): Promise<{ ok: number; failed: number; ms: number; stalled: boolean }> {
  return new Promise((resolve) => {
    const framer = new StreamFramer();
    const start = performance.now();
    let sent = 0;
    let answered = 0;
    let ok = 0;
    let lastProgress = start;
    let done = false;
    const finish = (stalled: boolean): void => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      resolve({ ok, failed: answered - ok + (stalled ? sent - answered : 0), ms: performance.now() - start, stalled });
    };
    const sendOne = (): void => {
      sent++;
      socket.write(requestBytes(requestCounter++));
    };
    const onData = (chunk: Buffer): void => {
      lastProgress = performance.now();
      const open = lastProgress - start < budgetMs;
      for (const item of framer.push(chunk)) {
        if (item.type === 'framing-error') return finish(true);
        if (item.type !== 'message') continue;
        const status = statusOf(item.bytes);
        if (status < 200) continue;
        answered++;
        if (status === 200) ok++;
        if (sent < count && open) sendOne();
      }
      if (answered === sent) finish(false);
    };
    const onClose = (): void => finish(true);
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > STALL_MS) finish(true);
    }, 250);
    socket.on('data', onData);
    socket.once('close', onClose);
    for (let i = 0; i < Math.min(WINDOW, count); i++) sendOne();
  });
}

async function pipelined(server: ServerProcess): Promise<PipelineResult> {
  const socket = await plainConnect(server.port);
  socket.on('error', () => undefined);
  try {
    const warm = await drive(socket, PIPELINE_WARMUP, 60_000);
    if (warm.stalled) throw new Error(`${server.name}: warm-up stalled after ${warm.ok} answers`);
    const cpu0 = treeCpuMs(server.pid);
    const client0 = process.cpuUsage();
    const run = await drive(socket, PIPELINE_MAX_REQUESTS, PIPELINE_BUDGET_MS);
    const client = process.cpuUsage(client0);
    return {
      ...run,
      serverCpuMs: treeCpuMs(server.pid) - cpu0,
      clientCpuMs: (client.user + client.system) / 1000,
      protocol: socket.getProtocol() ?? 'unknown',
    };
  } finally {
    socket.end();
  }
}

/** Sends one OPTIONS on a fresh connection, waits for the final response, then closes with close_notify. */
function exchangeOnce(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const framer = new StreamFramer();
    const timer = setTimeout(() => fail(new Error('no response')), STALL_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.on('error', (err: Error) => fail(err));
    socket.once('close', () => fail(new Error('closed before the response')));
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.type !== 'message') continue;
        const status = statusOf(item.bytes);
        if (status < 200) continue;
        clearTimeout(timer);
        socket.removeAllListeners('close');
        socket.end();
        if (status === 200) resolve();
        else reject(new Error(`answered ${status}`));
        return;
      }
    });
    socket.write(requestBytes(requestCounter++));
  });
}

type ChurnKind = 'plain' | 'verified';

async function connectionOnce(kind: ChurnKind, port: number): Promise<string> {
  if (kind === 'plain') {
    const socket = await plainConnect(port);
    const protocol = socket.getProtocol() ?? 'unknown';
    await exchangeOnce(socket);
    return protocol;
  }
  const r = await connectAndVerify({ host: '127.0.0.1', port, target: { sipDomain: DOMAIN }, trustStore, clientCertificate: clientIdentity, contexts, timeoutMs: STALL_MS });
  if (r.socket === null || !r.verdict.authenticated) throw new Error(`not verified: ${r.verdict.reasons.map((x) => x.code).join(', ')}`);
  const protocol = r.socket.getProtocol() ?? 'unknown';
  await exchangeOnce(r.socket);
  return protocol;
}

interface ChurnResult {
  /** The server process died during the cell: its figures are not comparable. */
  readonly crashed: boolean;
  readonly done: number;
  readonly failed: number;
  readonly ms: number;
  readonly serverCpuMs: number;
  readonly firstError: string | undefined;
  readonly protocol: string;
}

/** `count` connections, CHURN_CONCURRENCY at a time; stops early when the server process is gone. */
async function churn(kind: ChurnKind, server: ServerProcess, count: number): Promise<ChurnResult> {
  let started = 0;
  let done = 0;
  let failed = 0;
  let firstError: string | undefined;
  let protocol = 'unknown';
  const cpu0 = treeCpuMs(server.pid);
  const start = performance.now();
  const deadline = start + CHURN_BUDGET_MS;
  const worker = async (): Promise<void> => {
    while (started < count && performance.now() < deadline && server.exit() === undefined) {
      started++;
      try {
        protocol = await connectionOnce(kind, server.port);
        done++;
      } catch (err) {
        failed++;
        // OpenSSL messages end in a line break; one line each for the report.
        firstError ??= (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim().slice(0, 200);
        if (failed >= 10) return;
      }
    }
  };
  await Promise.all(Array.from({ length: CHURN_CONCURRENCY }, worker));
  const ms = performance.now() - start;
  const serverCpuMs = treeCpuMs(server.pid) - cpu0;
  // A crash shows first as failed connections; give the exit event a moment to arrive.
  for (let i = 0; i < 20 && failed > 0 && server.exit() === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return { crashed: server.exit() !== undefined, done, failed, ms, serverCpuMs, firstError, protocol };
}

const exitText = (exit: ProcessExit): string => (exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`);

interface ChurnTotal {
  done: number;
  failed: number;
  ms: number;
  serverCpuMs: number;
  crashedCells: number;
  errors: string[];
  protocol: string;
}

const num = (x: number, digits = 0): string =>
  (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const rateOf = (r: PipelineResult | undefined): number => (r === undefined ? NaN : (r.ok * 1000) / r.ms);
const cpuPerRequestUs = (r: PipelineResult | undefined): number => (r === undefined ? NaN : (r.serverCpuMs * 1000) / Math.max(1, r.ok));

async function main(): Promise<void> {
  const names: ServerName[] = ['sipsec', 'kamailio', 'node'];
  const starters: Record<ServerName, () => Promise<ServerProcess>> = {
    sipsec: () => startNodeServer('sipsec'),
    kamailio: startKamailio,
    node: () => startNodeServer('node'),
  };
  const servers = new Map<ServerName, ServerProcess>();
  /** What went wrong with a server, in the words of the report (crashes, restarts). */
  const incidents: string[] = [];
  /** The running server of that name; one that died is reported and restarted. */
  const running = async (name: ServerName, during: string): Promise<ServerProcess> => {
    const current = servers.get(name);
    const exit = current?.exit();
    if (current !== undefined && exit === undefined) return current;
    if (current !== undefined && exit !== undefined) {
      const tail = current.output().trim().split('\n').filter((l) => /crit|error|free|segfault|abort|bug/i.test(l)).slice(-2);
      incidents.push(`${SERVER_LABELS[name]} ${exitText(exit)} during ${during}${tail.length > 0 ? ` (last lines: ${tail.map((l) => `\`${l.trim().slice(0, 150)}\``).join(', ')})` : ''}, restarted`);
      process.stderr.write(`${incidents[incidents.length - 1]}\n`);
      await current.stop();
    }
    const started = await starters[name]();
    servers.set(name, started);
    return started;
  };

  try {
    for (const name of names) await running(name, 'start');

    // 1. One persistent connection, WINDOW outstanding; rounds interleave the servers, best round kept.
    const pipeline = new Map<ServerName, PipelineResult[]>(names.map((n) => [n, []]));
    for (let round = 0; round < PIPELINE_ROUNDS; round++) {
      for (const name of names) {
        const server = await running(name, 'the persistent-connection run');
        try {
          const r = await pipelined(server);
          if (server.exit() === undefined && !r.stalled) pipeline.get(name)?.push(r);
          process.stderr.write(`pipeline ${name} round ${round}: ${r.ok} ok, ${r.failed} failed in ${r.ms.toFixed(0)} ms = ${rateOf(r).toFixed(0)}/s; server CPU ${cpuPerRequestUs(r).toFixed(1)} µs/req, client CPU ${((r.clientCpuMs * 1000) / Math.max(1, r.ok)).toFixed(1)} µs/req, ${r.protocol}${r.stalled ? ', STALLED' : ''}\n`);
          if (r.stalled && server.exit() === undefined) incidents.push(`${SERVER_LABELS[name]}: persistent-connection round ${round + 1} stalled after ${r.ok} answers`);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          process.stderr.write(`pipeline ${name} round ${round}: ${message}\n`);
          if (server.exit() === undefined) incidents.push(`${SERVER_LABELS[name]}: persistent-connection round ${round + 1} failed (${message})`);
        }
        if (server.exit() !== undefined) await running(name, `persistent-connection round ${round + 1}`);
      }
    }

    // 2 and 3. New connections, plain and verified, servers and kinds interleaved round by round.
    const kinds: ChurnKind[] = ['plain', 'verified'];
    const churnTotals = new Map<string, ChurnTotal>();
    for (let round = 0; round < CHURN_ROUNDS; round++) {
      for (const kind of kinds) {
        for (const name of names) {
          const server = await running(name, `${kind} connections`);
          const r = await churn(kind, server, CHURN_CONNECTIONS);
          const key = `${kind}/${name}`;
          const total = churnTotals.get(key) ?? { done: 0, failed: 0, ms: 0, serverCpuMs: 0, crashedCells: 0, errors: [], protocol: r.protocol };
          if (r.crashed) {
            total.crashedCells++;
          } else {
            total.done += r.done;
            total.failed += r.failed;
            total.ms += r.ms;
            total.serverCpuMs += r.serverCpuMs;
          }
          if (r.firstError !== undefined) total.errors.push(r.firstError);
          churnTotals.set(key, total);
          process.stderr.write(`churn ${key} round ${round}: ${r.done} ok, ${r.failed} failed in ${r.ms.toFixed(0)} ms = ${((r.done * 1000) / r.ms).toFixed(0)}/s; server CPU ${(r.serverCpuMs / Math.max(1, r.done)).toFixed(2)} ms/conn, ${r.protocol}${r.crashed ? ', SERVER DIED' : ''}${r.firstError !== undefined ? `; first error: ${r.firstError}` : ''}\n`);
          if (r.crashed) await running(name, `${kind} connections, round ${round + 1}, after ${r.done} good connections and ${r.failed} failed of ${CHURN_CONNECTIONS}`);
        }
      }
    }

    // Report.
    const best = (name: ServerName): PipelineResult | undefined => [...(pipeline.get(name) ?? [])].sort((a, b) => rateOf(b) - rateOf(a))[0];
    const bestRuns = new Map(names.map((n) => [n, best(n)]));
    const pipelineRows = names.map((n) => {
      const r = bestRuns.get(n);
      return `| ${SERVER_LABELS[n]} | ${num(rateOf(r))} | ${num(cpuPerRequestUs(r), 1)} µs | ${r ? `${r.ok.toLocaleString('en-US')} / ${r.failed}` : 'no good round'} |`;
    });
    const ps = bestRuns.get('sipsec');
    const pk = bestRuns.get('kamailio');
    const pn = bestRuns.get('node');
    pipelineRows.push(`| **sipsec / Kamailio** | **${ratio(rateOf(ps), rateOf(pk))}** | **${ratio(cpuPerRequestUs(ps), cpuPerRequestUs(pk))}** | |`);
    pipelineRows.push(`| sipsec / bare Node | ${ratio(rateOf(ps), rateOf(pn))} | ${ratio(cpuPerRequestUs(ps), cpuPerRequestUs(pn))} | |`);

    const cell = (kind: ChurnKind, name: ServerName): { rate: number; cpuMs: number; text: string } => {
      const t = churnTotals.get(`${kind}/${name}`);
      if (t === undefined || t.done === 0) return { rate: NaN, cpuMs: NaN, text: t !== undefined && t.crashedCells > 0 ? 'crashed' : 'n/a' };
      const rate = (t.done * 1000) / t.ms;
      const notes = [...(t.failed > 0 ? [`${t.failed} failed`] : []), ...(t.crashedCells > 0 ? [`${t.crashedCells} of ${CHURN_ROUNDS} rounds crashed`] : [])];
      return { rate, cpuMs: t.serverCpuMs / t.done, text: `${num(rate)}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}` };
    };
    const churnRows = names.map((n) => {
      const plain = cell('plain', n);
      const verified = cell('verified', n);
      return `| ${SERVER_LABELS[n]} | ${plain.text} | ${verified.text} | ${num(plain.cpuMs, 2)} ms | ${num(verified.cpuMs, 2)} ms |`;
    });
    const [sp, sv, kp, kv] = [cell('plain', 'sipsec'), cell('verified', 'sipsec'), cell('plain', 'kamailio'), cell('verified', 'kamailio')];
    const [np, nv] = [cell('plain', 'node'), cell('verified', 'node')];
    churnRows.push(`| **sipsec / Kamailio** | **${ratio(sp.rate, kp.rate)}** | **${ratio(sv.rate, kv.rate)}** | **${ratio(sp.cpuMs, kp.cpuMs)}** | **${ratio(sv.cpuMs, kv.cpuMs)}** |`);
    churnRows.push(`| sipsec / bare Node | ${ratio(sp.rate, np.rate)} | ${ratio(sv.rate, nv.rate)} | ${ratio(sp.cpuMs, np.cpuMs)} | ${ratio(sv.cpuMs, nv.cpuMs)} |`);
    const verifyCostMs = (plain: number, verified: number): string =>
      (Number.isFinite(plain) && Number.isFinite(verified) ? `${num(1000 / verified - 1000 / plain, 2)} ms` : 'n/a');
    const errors = [...churnTotals.entries()].flatMap(([key, t]) => (t.errors.length > 0 ? [`${key}: ${t.errors[0] ?? ''}`] : []));
    const protocols = [...new Set([...[...churnTotals.values()].map((t) => t.protocol), ...[...bestRuns.values()].map((r) => r?.protocol ?? '')])]
      .filter((p) => p !== '' && p !== 'unknown');

    const markdown = [
      '## SIP over TLS: one persistent connection and new connections, beside Kamailio',
      '',
      `${machineLine()}, ${os.cpus().length} cores. **The machine is shared (2 cores, other work running) and these figures are noisy:`,
      'compare the ratios, not the absolute numbers.** Client and servers share the 2 cores, so a rate is',
      'that of the whole loop, client included; the server CPU columns (user + system time of the server',
      `process and its children, read from /proc in clock ticks of ${1000 / CLOCK_TICKS} ms, per answer or per connection) are`,
      'what the server alone costs. In the ratio rows, above 1× means sipsec is faster in a rate column and',
      'costs more in a CPU column. Read the CPU columns first: they vary much less from round to round and',
      'from run to run than the rates, which follow the load of the machine.',
      '',
      `All servers listen on 127.0.0.1 with mutual TLS (${protocols.join(', ') || 'TLS'} negotiated; ECDSA P-256 certificates from one`,
      'test CA, the same server certificate for all) and answer OPTIONS with 200, each in a process of its own:',
      '- the sipsec `Responder` (TransportLayer + TransactionLayer: full parse, server transaction, response',
      '  built from the request; it requires the client certificate and verifies it with sipsec\'s verifier);',
      '- Debian\'s Kamailio 5.6.3, stateless `sl_send_reply`, 2 TCP workers, `verify_certificate` and',
      '  `require_certificate` on, no per-request log, TLSF shared memory (`-x tlsf`: with Debian\'s default',
      '  q_malloc, whose debug checks run on every allocation, Kamailio was seen here to spend about 7 ms',
      '  of CPU per TLS connection instead of about 2 ms);',
      '- for reference, a bare `node:tls` server (OpenSSL verifies the client chain) that frames requests',
      '  with `StreamFramer` and writes a fixed 200: what Node itself costs, with no SIP processing.',
      '',
      'The client is the same for all, so only the server differs: a lean TLS client in the bench process',
      'that writes pre-serialized OPTIONS (built once with sipsec\'s `buildRequest`; a new branch and Call-ID',
      'per request, so every request is a new transaction) and frames responses with sipsec\'s',
      '`StreamFramer`, reading only the status line. A client on TransportLayer + TransactionLayer would cost',
      'more CPU per request than the servers and, on the same 2 cores, would make them look alike.',
      '',
      `**One persistent connection**: ${WINDOW} OPTIONS outstanding, ${PIPELINE_WARMUP.toLocaleString('en-US')} warm-up requests, then up to`,
      `${PIPELINE_MAX_REQUESTS.toLocaleString('en-US')} requests or ${PIPELINE_BUDGET_MS} ms; ${PIPELINE_ROUNDS} rounds with the servers interleaved, a new connection each`,
      'round, the best round shown.',
      '',
      '| server | OPTIONS/s | server CPU per request | 200 OK / failed |',
      '|---|---|---|---|',
      ...pipelineRows,
      '',
      `**New connections**: ${CHURN_ROUNDS} rounds of ${CHURN_CONNECTIONS} connections per cell, ${CHURN_CONCURRENCY} at a time, cells interleaved; the`,
      'figures add up the rounds. Each connection: TCP connect, full TLS handshake with the client',
      'certificate (no resumption), one OPTIONS and its 200, close with close_notify. "Verified" checks the',
      'server with sipsec\'s `connectAndVerify` (PKIX path to the test CA and the SIP domain `bench.test`',
      'by RFC 5922) before sending; "plain" is a Node TLS connect without verification, the baseline. The',
      'count is small on purpose: Debian\'s Kamailio 5.6.3 TLS module is known to crash under connection',
      'churn (DESIGN.md); a server that dies is reported below and restarted, and its round is left out.',
      '',
      '| server | plain conn/s | verified conn/s | server CPU per connection, plain | verified |',
      '|---|---|---|---|---|',
      ...churnRows,
      '',
      `Verification on the client adds ${verifyCostMs(sp.rate, sv.rate)} per connection against sipsec and ${verifyCostMs(kp.rate, kv.rate)} against Kamailio`,
      `(difference in wall time per connection at concurrency ${CHURN_CONCURRENCY}; noisy). The server does the same work in both`,
      'columns, so its CPU per connection should match across them.',
      '',
      incidents.length === 0
        ? 'Server processes: none died or stalled in this run.'
        : `Server processes in this run: ${incidents.join('; ')}.`,
      ...(errors.length > 0 ? ['', `First connection error per cell that had one: ${errors.join('; ')}.`] : []),
      '',
      'Run: `bash scripts/bench.sh` (or `node dist/bench/transport-tls.bench.js` after a build); needs the',
      'Debian packages `kamailio` and `kamailio-tls-modules`.',
    ].join('\n');
    const file = writeReportSection(REPO_ROOT, 'transport-tls', markdown);
    process.stderr.write(`wrote ${file}\n`);
  } finally {
    for (const server of servers.values()) await server.stop();
  }
}

await main();
