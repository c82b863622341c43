/**
 * A stateful record-routing proxy under call load over UDP: SIPp places calls (INVITE, 100, 180,
 * 200, ACK, pause, BYE, 200; test/fixtures/sipp/uac-call.xml and uas-call.xml) through
 * `sipsec proxy` and through Debian's Kamailio 5.6 configured as the equivalent proxy, in the same
 * run and interleaved, at a few fixed rates. Per proxy and rate: CPU time of the proxy's processes
 * per call, calls/s achieved and failures, latency of the 200, and memory at start and end. Writes
 * its section of docs/BENCHMARKS.md between the `proxy-load` markers.
 *
 * The sipsec side is skipped, with the reason in the report, while `sipsec proxy` does not start or
 * does not accept the callee's registration: no figure is ever made up for it.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { issueCertificate } from '../src/lab/certificates.js';
import { freePort, waitForSipUdp } from '../src/lab/free-port.js';
import { startKamailioProxy, type ProcessExit } from '../src/lab/kamailio.js';
import { machineLine, writeReportSection } from './markdown-report.js';
import { CLOCK_TICKS, treeCpuMs, treePssKb } from './proc-stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const SCENARIOS = path.join(REPO_ROOT, 'test', 'fixtures', 'sipp');
/** The sipsec CLI to run as `proxy`; SIPSEC_BENCH_PROXY_CLI points at another build of it. */
const SIPSEC_CLI = path.resolve(process.env.SIPSEC_BENCH_PROXY_CLI ?? path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'));

/** Calls per second asked of SIPp, one cell each; SIPSEC_BENCH_PROXY_RATES overrides (e.g. "200,500"). */
const RATES = (process.env.SIPSEC_BENCH_PROXY_RATES ?? '200,500,1000').split(',').map(Number).filter((r) => r > 0);
/** Seconds of calls per cell: the call count of a cell is rate × this. */
const STEP_SECONDS = Number(process.env.SIPSEC_BENCH_PROXY_SECONDS ?? 5);
/** Rounds over all cells; the proxies alternate within each rate, and which goes first alternates by round. */
const ROUNDS = 2;
/** The pause between the ACK and the BYE (SIPp -d). */
const CALL_PAUSE_MS = 100;
/** Calls through each proxy before anything is measured (caches, JIT, memory pools). */
const WARMUP_RATE = 200;
const WARMUP_CALLS = 1_000;
/** More warm-up calls failing than this, and the proxy is reported as not working rather than measured. */
const WARMUP_FAILURE_LIMIT = 0.1;
/** A rate counts as sustained when fewer calls than this fail. */
const FAILURE_LIMIT = 0.01;
/** After a cell, CPU is read again once the proxy has been idle this long (its timers fired), or after SETTLE_MAX_MS. */
const SETTLE_IDLE_MS = 500;
const SETTLE_MAX_MS = 6_000;

// Addresses of their own, so that the proxies, caller and callee never share a socket address.
const KAMAILIO_ADDRESS = '127.0.0.201';
const SIPSEC_ADDRESS = '127.0.0.202';
const UAC_ADDRESS = '127.0.0.203';
const UAS_ADDRESS = '127.0.0.204';
/** The proxy's domain; the callee registers as CALLEE@DOMAIN, the caller belongs to another domain. */
const DOMAIN = 'bench.test';
const CALLEE = 'uas';
const CALLEE_PASSWORD = 'bench-callee-password';

type ProxyName = 'kamailio' | 'sipsec';
const LABELS: Readonly<Record<ProxyName, string>> = {
  kamailio: 'Kamailio 5.6 (tm, rr; 2 UDP workers)',
  sipsec: 'sipsec proxy',
};

interface ProxyUnderTest {
  readonly name: ProxyName;
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  readonly exit: () => ProcessExit | undefined;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

interface SippRun {
  readonly code: number | null;
  readonly output: string;
}

/**
 * What must not outlive the bench: its SIPp and proxy processes, signalled synchronously when the
 * bench ends in any way (an interrupt, a crash, a closed stderr pipe), where no `finally` runs.
 */
const leftovers = new Set<() => void>();
process.once('exit', () => {
  for (const kill of leftovers) kill();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));

/** Registers a process to signal at exit; the returned function unregisters it once it ended. */
function outlive(pid: number | undefined, signal: NodeJS.Signals): () => void {
  const kill = (): void => {
    try {
      if (pid !== undefined) process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  leftovers.add(kill);
  return () => void leftovers.delete(kill);
}

/** SIPp in `cwd` (where it writes its statistics files), killed after deadlineMs. */
function sipp(cwd: string, args: readonly string[], deadlineMs: number): { done: Promise<SippRun>; kill: () => void } {
  const child = spawn('sipp', [...args, '-nostdin'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const ended = outlive(child.pid, 'SIGKILL');
  const done = new Promise<SippRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      ended();
      resolve({ code, output });
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once something holds the UDP port (the callee has bound it), so that no first INVITE is lost. */
async function waitUdpBound(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const socket = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, address, () => resolve(true));
    });
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (!free) return;
    await sleep(20);
  }
  throw new Error(`nothing bound udp ${address}:${port} within ${timeoutMs} ms`);
}

/** The caller's keys: a caller of another domain calls CALLEE@DOMAIN. */
const CALLER_KEYS = ['-s', CALLEE, '-key', 'from_user', 'caller', '-key', 'from_domain', 'caller.test', '-key', 'to_domain', DOMAIN];

async function startKamailio(uasPort: number): Promise<ProxyUnderTest> {
  // Kamailio has no registrar here: it sends every initial request to the callee's address.
  const k = await startKamailioProxy({ address: KAMAILIO_ADDRESS, forwardTo: `${UAS_ADDRESS}:${uasPort}`, children: 2 });
  // SIGTERM: Kamailio's main process then stops its workers; SIGKILL would orphan them.
  const ended = outlive(k.pid, 'SIGTERM');
  const stop = async (): Promise<void> => {
    await k.stop();
    ended();
  };
  return { name: 'kamailio', address: k.address, port: k.port, pid: k.pid, exit: k.exit, output: k.output, stop };
}

/**
 * `sipsec proxy --config FILE` with a one-domain configuration using the keys of issue 13, then
 * the callee's registration through it (digest MD5: SIPp answers nothing else). Resolves to the
 * reason when the proxy cannot be measured.
 */
async function startSipsec(uasPort: number): Promise<ProxyUnderTest | { skipped: string }> {
  if (!fs.existsSync(SIPSEC_CLI)) return { skipped: `${SIPSEC_CLI} is missing (build first)` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-bench-proxy-'));
  const port = await freePort(SIPSEC_ADDRESS);
  const ca = issueCertificate({ cn: 'Bench Proxy CA', ca: true });
  const cert = issueCertificate({ cn: DOMAIN, issuer: ca, san: { dns: [DOMAIN], uri: [`sip:${DOMAIN}`] } });
  fs.writeFileSync(path.join(dir, `${DOMAIN}.pem`), cert.pem + ca.pem);
  fs.writeFileSync(path.join(dir, `${DOMAIN}.key`), cert.keyPem, { mode: 0o600 });
  // A plain password is what the issue allows for tests; the proxy logs a warning for it.
  fs.writeFileSync(path.join(dir, 'users.yaml'), stringify({ [`${CALLEE}@${DOMAIN}`]: { password: CALLEE_PASSWORD } }), { mode: 0o600 });
  const config = {
    domains: { [DOMAIN]: { certificate: path.join(dir, `${DOMAIN}.pem`), key: path.join(dir, `${DOMAIN}.key`) } },
    listen: [`udp://${SIPSEC_ADDRESS}:${port}`],
    users: path.join(dir, 'users.yaml'),
    auth: { algorithms: ['MD5'] },
    location: `sqlite:${path.join(dir, 'location.db')}`,
    // Warnings and errors only, as Kamailio's debug=1: a log line per request would be measured with the proxy.
    log: { level: 'warn' },
    // The caller stands for another domain's traffic, sent here over UDP as to Kamailio: a real
    // far domain comes over mutual TLS (policy mutual-tls, on by default), but this measures the
    // routing of calls, the same work on both proxies, not the hop policies.
    policy: { 'mutual-tls': false },
  };
  const configFile = path.join(dir, 'proxy.yaml');
  fs.writeFileSync(configFile, stringify(config));

  const child = spawn(process.execPath, [SIPSEC_CLI, 'proxy', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: ProcessExit | undefined;
  const ended = outlive(child.pid, 'SIGTERM');
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    ended();
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
  // Why it stopped: the CLI's own error line (`sipsec: ...`, `sipsec proxy: ...`), else its last line;
  // warnings (the callee's plain password) and the usage text say nothing about that.
  const lastLines = (): string => {
    const lines = output.trim().split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^warning:/i.test(l));
    return (lines.find((l) => /^sipsec[\w ]*:/.test(l)) ?? lines[lines.length - 1] ?? 'no output').slice(0, 200);
  };
  try {
    await waitForSipUdp(SIPSEC_ADDRESS, port, 15_000, () => exit === undefined);
  } catch {
    await sleep(200); // let the exit event and the last output arrive
    const reason = exit !== undefined
      ? `\`sipsec proxy --config\` exited at start (${exitText(exit)}): \`${lastLines()}\``
      : `\`sipsec proxy\` did not answer OPTIONS on udp ${SIPSEC_ADDRESS}:${port} within 15 s`;
    await stop();
    return { skipped: reason };
  }
  const registration = sipp(dir, ['-sf', path.join(SCENARIOS, 'uac-register.xml'), '-i', UAS_ADDRESS, '-p', String(uasPort),
    `${SIPSEC_ADDRESS}:${port}`, '-s', CALLEE, '-key', 'domain', DOMAIN, '-au', CALLEE, '-ap', CALLEE_PASSWORD, '-auth_uri', DOMAIN,
    '-m', '1', '-timeout', '15s', '-timeout_error'], 20_000);
  const registered = await registration.done;
  if (registered.code !== 0) {
    await stop();
    const codes = [...new Set([...registered.output.matchAll(/SIP\/2\.0 (\d{3})/g)].map((m) => m[1]))];
    return { skipped: `the callee's REGISTER (digest MD5) through \`sipsec proxy\` did not end in 200 (SIPp exit ${registered.code}${codes.length > 0 ? `; responses seen: ${codes.join(', ')}` : ''})` };
  }
  return { name: 'sipsec', address: SIPSEC_ADDRESS, port, pid: child.pid ?? 0, exit: () => exit, output: () => output, stop };
}

const exitText = (exit: ProcessExit): string => (exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`);

interface CellResult {
  readonly proxy: ProxyName;
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  /** Successful calls per second, from the first to the last 200 received. */
  readonly achievedRate: number;
  readonly cpuMs: number;
  /** INVITE sent to 200 received, per successful call (ms). */
  readonly latencies: number[];
  readonly proxyDied: boolean;
  /** SIPp's caller left no statistics (it could not run): the tail of what it printed. */
  readonly sippFailure?: string;
  /** SIPp's failure counters that are not zero, e.g. `FailedMaxUDPRetrans 1000`. */
  readonly failureKinds: string;
}

/** The last row of SIPp's statistics file (-trace_stat), by column name. */
function lastStats(file: string): Map<string, string> {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return new Map(header.map((name, i) => [name.trim(), (last[i] ?? '').trim()]));
}

/** SIPp's response-time trace (-trace_rtt): `date_ms;response_time_ms;rtd_no` per call. */
function responseTimes(file: string): Array<{ at: number; ms: number }> {
  return fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)
    .map((line) => line.split(';').map(Number))
    .filter((f) => f.length >= 2 && Number.isFinite(f[0]) && Number.isFinite(f[1]))
    .map((f) => ({ at: f[0] ?? 0, ms: f[1] ?? 0 }));
}

/** CPU of the proxy once it has been idle SETTLE_IDLE_MS (its transactions' timers done), or after SETTLE_MAX_MS. */
async function settledCpuMs(pid: number): Promise<number> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let last = treeCpuMs(pid);
  while (Date.now() < deadline) {
    await sleep(SETTLE_IDLE_MS);
    const now = treeCpuMs(pid);
    if (now - last <= 1000 / CLOCK_TICKS) return now;
    last = now;
  }
  return last;
}

/** One cell: `calls` calls at `rate` through the proxy, a new callee process for the cell. */
async function cell(proxy: ProxyUnderTest, rate: number, calls: number, uasPort: number): Promise<CellResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-bench-sipp-'));
  const deadlineMs = (calls / rate) * 1000 + 60_000;
  const uas = sipp(dir, ['-sf', path.join(SCENARIOS, 'uas-call.xml'), '-i', UAS_ADDRESS, '-p', String(uasPort)], deadlineMs + 10_000);
  try {
    await waitUdpBound(UAS_ADDRESS, uasPort, 10_000);
    const cpu0 = treeCpuMs(proxy.pid);
    const uac = sipp(dir, ['-sf', path.join(SCENARIOS, 'uac-call.xml'), '-i', UAC_ADDRESS, '-p', String(await freePort(UAC_ADDRESS)),
      `${UAS_ADDRESS}:${uasPort}`, '-rsa', `${proxy.address}:${proxy.port}`, ...CALLER_KEYS,
      '-m', String(calls), '-r', String(rate), '-d', String(CALL_PAUSE_MS),
      '-trace_stat', '-stf', path.join(dir, 'stats.csv'), '-fd', '1', '-trace_rtt', '-rtt_freq', '100',
      '-timeout', `${Math.ceil(deadlineMs / 1000) - 5}s`], deadlineMs);
    const uacRun = await uac.done;
    const cpuMs = (await settledCpuMs(proxy.pid)) - cpu0;
    if (!fs.existsSync(path.join(dir, 'stats.csv'))) {
      const tail = uacRun.output.trim().split('\n').slice(-2).map((l) => l.trim()).join(' / ').slice(0, 300);
      return { proxy: proxy.name, rate, calls, successful: 0, failed: calls, achievedRate: NaN, cpuMs, latencies: [], proxyDied: proxy.exit() !== undefined, sippFailure: `SIPp exit ${uacRun.code}: ${tail}`, failureKinds: '' };
    }
    const stats = lastStats(path.join(dir, 'stats.csv'));
    const rttFile = fs.readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
    const times = rttFile === undefined ? [] : responseTimes(path.join(dir, rttFile));
    const successful = Number(stats.get('SuccessfulCall(C)') ?? 0);
    const failed = Number(stats.get('FailedCall(C)') ?? 0);
    const failureKinds = [...stats].filter(([name, value]) => /^Failed\w+\(C\)$/.test(name) && name !== 'FailedCall(C)' && Number(value) > 0)
      .map(([name, value]) => `${name.replace('(C)', '')} ${value}`).join(', ');
    const first = times[0]?.at ?? 0;
    const last = times[times.length - 1]?.at ?? 0;
    return {
      proxy: proxy.name, rate, calls, successful, failed,
      achievedRate: times.length > 1 && last > first ? ((times.length - 1) * 1000) / (last - first) : NaN,
      cpuMs, latencies: times.map((t) => t.ms), proxyDied: proxy.exit() !== undefined, failureKinds,
    };
  } finally {
    uas.kill();
    await uas.done.catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const num = (x: number, digits = 0): string =>
  (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

interface Aggregate {
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  /** The lowest achieved rate of the rounds: what was sustained every time. */
  readonly achievedRate: number;
  readonly cpuPerCallMs: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly sustained: boolean;
  readonly rounds: number;
}

function aggregate(cells: readonly CellResult[]): Aggregate | undefined {
  if (cells.length === 0) return undefined;
  const calls = cells.reduce((s, c) => s + c.calls, 0);
  const successful = cells.reduce((s, c) => s + c.successful, 0);
  const failed = cells.reduce((s, c) => s + c.failed, 0);
  const latencies = cells.flatMap((c) => c.latencies).sort((a, b) => a - b);
  return {
    calls, successful, failed,
    achievedRate: Math.min(...cells.map((c) => c.achievedRate)),
    cpuPerCallMs: cells.reduce((s, c) => s + c.cpuMs, 0) / Math.max(1, successful),
    meanMs: latencies.reduce((sum, x) => sum + x, 0) / Math.max(1, latencies.length),
    p99Ms: quantile(latencies, 0.99),
    sustained: cells.every((c) => c.failed < FAILURE_LIMIT * c.calls && c.successful > 0),
    rounds: cells.length,
  };
}

interface Memory {
  readonly startKb: number;
  readonly warmKb: number;
  /** PSS right after the proxy's own last cell of each round, so that every reading follows the same work. */
  readonly afterRoundKb: number[];
  /** Successful calls through the proxy in each round. */
  readonly callsInRound: number[];
}

async function main(): Promise<void> {
  const uasPort = await freePort(UAS_ADDRESS);
  const proxies: ProxyUnderTest[] = [];
  const skipped = new Map<ProxyName, string>();
  const memory = new Map<ProxyName, Memory>();
  const results: CellResult[] = [];
  const incidents: string[] = [];
  try {
    // sipsec first: the callee's registration binds the callee's port before any callee runs.
    const sipsec = await startSipsec(uasPort);
    if ('skipped' in sipsec) {
      skipped.set('sipsec', sipsec.skipped);
      process.stderr.write(`proxy-load: sipsec side skipped: ${sipsec.skipped}\n`);
    } else {
      proxies.push(sipsec);
    }
    proxies.unshift(await startKamailio(uasPort));

    for (const proxy of [...proxies]) {
      const startKb = treePssKb(proxy.pid);
      const warm = await cell(proxy, WARMUP_RATE, WARMUP_CALLS, uasPort);
      process.stderr.write(`proxy-load: warm-up ${proxy.name}: ${warm.successful} ok, ${warm.failed} failed\n`);
      // A proxy that cannot carry a light load is not measured: its figures would describe failures.
      if (warm.successful < WARMUP_CALLS * (1 - WARMUP_FAILURE_LIMIT)) {
        const why = warm.proxyDied ? `the process ended (${exitText(proxy.exit() ?? { code: null, signal: null })})` : warm.sippFailure ?? (warm.failureKinds || 'calls failed');
        skipped.set(proxy.name, `only ${warm.successful} of ${WARMUP_CALLS} warm-up calls at ${WARMUP_RATE}/s completed through it (${why})`);
        process.stderr.write(`proxy-load: ${proxy.name} side skipped: ${skipped.get(proxy.name) ?? ''}\n`);
        await proxy.stop();
        proxies.splice(proxies.indexOf(proxy), 1);
        continue;
      }
      memory.set(proxy.name, { startKb, warmKb: treePssKb(proxy.pid), afterRoundKb: [], callsInRound: [] });
    }

    for (let round = 0; round < ROUNDS; round++) {
      for (const rate of RATES) {
        const order = round % 2 === 0 ? proxies : [...proxies].reverse();
        for (const proxy of order) {
          if (proxy.exit() !== undefined) continue;
          const calls = Math.round(rate * STEP_SECONDS);
          const r = await cell(proxy, rate, calls, uasPort);
          results.push(r);
          const m = memory.get(proxy.name);
          if (m !== undefined) {
            m.callsInRound[round] = (m.callsInRound[round] ?? 0) + r.successful;
            if (rate === RATES[RATES.length - 1] && !r.proxyDied) m.afterRoundKb[round] = treePssKb(proxy.pid);
          }
          process.stderr.write(`proxy-load: round ${round + 1} ${proxy.name} @${rate}/s: ${r.successful} ok, ${r.failed} failed${r.failureKinds !== '' ? ` (${r.failureKinds})` : ''}, `
            + `${num(r.achievedRate)} calls/s, CPU ${num(r.cpuMs / Math.max(1, r.successful), 3)} ms/call, `
            + `200 mean ${num(r.latencies.reduce((sum, x) => sum + x, 0) / Math.max(1, r.latencies.length), 2)} ms${r.proxyDied ? ', PROXY DIED' : ''}\n`);
          if (r.sippFailure !== undefined) incidents.push(`SIPp's caller could not run the ${rate} calls/s cell of round ${round + 1} through ${LABELS[proxy.name]} (${r.sippFailure})`);
          if (r.proxyDied) {
            const exit = proxy.exit();
            incidents.push(`${LABELS[proxy.name]} ${exit !== undefined ? exitText(exit) : 'stopped'} during the ${rate} calls/s cell of round ${round + 1}`);
          }
        }
      }
    }
  } finally {
    for (const proxy of proxies) await proxy.stop();
  }

  const names: ProxyName[] = ['kamailio', 'sipsec'];
  const byCell = (name: ProxyName, rate: number): Aggregate | undefined => aggregate(results.filter((r) => r.proxy === name && r.rate === rate));
  const rows: string[] = [];
  for (const rate of RATES) {
    for (const name of names) {
      const a = byCell(name, rate);
      if (a === undefined) {
        rows.push(`| ${rate} | ${LABELS[name]} | ${skipped.has(name) ? 'skipped (below)' : 'no result'} | | | | |`);
        continue;
      }
      const failedPct = (100 * a.failed) / Math.max(1, a.calls);
      rows.push(`| ${rate} | ${LABELS[name]} | ${num(a.achievedRate)}${a.sustained ? '' : ' (not sustained)'} | ${a.failed} of ${a.calls} (${num(failedPct, 2)} %) | ${num(a.cpuPerCallMs, 3)} ms | ${num(a.meanMs, 2)} ms | ${num(a.p99Ms, 1)} ms |`);
    }
    const s = byCell('sipsec', rate);
    const k = byCell('kamailio', rate);
    rows.push(`| ${rate} | **sipsec / Kamailio** | **${ratio(s?.achievedRate ?? NaN, k?.achievedRate ?? NaN)}** | | **${ratio(s?.cpuPerCallMs ?? NaN, k?.cpuPerCallMs ?? NaN)}** | **${ratio(s?.meanMs ?? NaN, k?.meanMs ?? NaN)}** | **${ratio(s?.p99Ms ?? NaN, k?.p99Ms ?? NaN)}** |`);
  }
  const sustainedMax = (name: ProxyName): string => {
    const ok = RATES.filter((rate) => byCell(name, rate)?.sustained === true);
    return ok.length > 0 ? `${Math.max(...ok)} calls/s asked` : 'none of the rates';
  };
  const memoryRows = names.map((name) => {
    const m = memory.get(name);
    if (m === undefined) return `| ${LABELS[name]} | ${skipped.has(name) ? 'skipped' : 'n/a'} |${' |'.repeat(ROUNDS + 2)}`;
    const last = ROUNDS - 1;
    const before = last > 0 ? m.afterRoundKb[last - 1] : m.warmKb;
    const end = m.afterRoundKb[last];
    const calls = m.callsInRound[last] ?? 0;
    const perCall = before !== undefined && end !== undefined ? ((end - before) * 1024) / Math.max(1, calls) : NaN;
    const rounds = Array.from({ length: ROUNDS }, (_, i) => `${num((m.afterRoundKb[i] ?? NaN) / 1024, 1)} MB`);
    return `| ${LABELS[name]} | ${num(m.startKb / 1024, 1)} MB | ${num(m.warmKb / 1024, 1)} MB | ${rounds.join(' | ')} | ${num(perCall, 1)} bytes over ${calls.toLocaleString('en-US')} calls |`;
  });

  const markdown = [
    '## Stateful proxy under call load (UDP), beside Kamailio',
    '',
    `${machineLine()}, ${os.cpus().length} cores. **The machine is shared (other work running) and SIPp's caller and callee run on`,
    'the same cores as the proxy: compare the ratios and the CPU per call, not the rates.**',
    '',
    'What runs: SIPp (Debian `sip-tester`) places calls over UDP on loopback, caller and callee in their',
    'own processes (`test/fixtures/sipp/uac-call.xml`, `uas-call.xml`): INVITE, 100, 180, 200, ACK,',
    `a pause of ${CALL_PAUSE_MS} ms, BYE, 200. The caller sends everything to the proxy (SIPp \`-rsa\`) for`,
    `\`sip:${CALLEE}@${DOMAIN}\`; the proxy record-routes, the callee copies the Record-Route set, and the`,
    'caller sends the ACK and the BYE by that route set, so every message of the call crosses the proxy.',
    'The two proxies:',
    '- Kamailio 5.6.3 (Debian) as the usual minimal stateful proxy: `children=2` UDP workers, maxfwd, tm',
    '  (`t_relay` for every request, CANCEL and non-2xx ACK matched to their transaction), rr',
    '  (`record_route` on every initial request, `loose_route` for in-dialog ones), sl; no',
    '  authentication, no database, no per-request log, TLSF memory managers; it sends initial requests',
    '  to the callee\'s address, configured at start (`src/lab/kamailio.ts`, `startKamailioProxy`);',
    `- \`sipsec proxy --config\` with one domain (\`${DOMAIN}\`), one UDP listener, the SQLite location store;`,
    '  the callee registers first (digest MD5) and the proxy finds it by location look-up, so sipsec',
    '  does one store read per call that Kamailio does not.',
    '',
    'Method:',
    `- Rates asked of SIPp: ${RATES.join(', ')} calls/s; each cell places rate × ${STEP_SECONDS} s calls and starts a new`,
    `  callee. ${WARMUP_CALLS} warm-up calls at ${WARMUP_RATE}/s through each proxy come first and are not counted.`,
    `- Interleaved: ${ROUNDS} rounds; in each round every rate is measured on one proxy and then the other, the`,
    '  first proxy alternating from round to round, so that the load other work puts on the machine falls',
    '  on both alike. Figures add up the rounds.',
    `- CPU per call: user + system time of the proxy's process and all its descendants (Kamailio's workers`,
    `  and timer processes), from /proc/PID/stat in ticks of ${1000 / CLOCK_TICKS} ms, read before the cell and after it once the`,
    `  proxy has been idle for ${SETTLE_IDLE_MS} ms (at most ${SETTLE_MAX_MS / 1000} s, so that the transactions' end timers count too;`,
    '  a timer that fires later, such as RFC 3261 Timer J for a BYE over UDP, falls in a later cell of the',
    '  same proxy), divided by the successful calls.',
    '- Calls/s achieved: successful calls per second from the first 200 to the last (SIPp `-trace_rtt`),',
    `  the lowest of the rounds; "not sustained" when a round had ${FAILURE_LIMIT * 100} % of its calls failed or more (SIPp`,
    '  `-trace_stat`: failed calls of every kind, timeouts and unexpected messages included).',
    '- 200 latency: from the INVITE sent to its 200 received at the caller (SIPp `rtd`), mean and 99th',
    '  percentile over every call of the cell. SIPp reads its clock in steps of about 4 ms here, so single',
    '  values (and a median) are quantised to those steps; the mean over thousands of calls is finer.',
    '- Compare the proxies at the same rate, not a proxy across rates: at low rates SIPp sleeps between',
    '  its loop turns (latency looks higher at 200 calls/s than at 1000) and a proxy is woken for nearly',
    '  every datagram (CPU per call looks higher), while at high rates work is batched.',
    '- Memory: proportional set size (PSS) summed over the proxy\'s processes, so that Kamailio\'s shared',
    '  memory counts once; read after start, after the warm-up, and right after the proxy\'s own last cell',
    '  of each round (the same work precedes every such reading). Growth per call is the change over the',
    '  last round divided by its calls: the first round touches the memory the peak load needs (Kamailio',
    '  preallocates its shared memory and the first use of a page makes it resident), the last one should',
    '  reuse it, so a steady growth there is a leak.',
    '',
    '| calls/s asked | proxy | calls/s achieved | failed calls | CPU per call | 200 latency, mean | 99th percentile |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Highest rate sustained (under ${FAILURE_LIMIT * 100} % failed in every round): Kamailio ${skipped.has('kamailio') ? 'skipped' : sustainedMax('kamailio')}, sipsec ${skipped.has('sipsec') ? 'skipped' : sustainedMax('sipsec')}.`,
    'In the ratio rows, above 1× means sipsec achieves more calls/s, or costs more CPU or latency.',
    '',
    `| proxy | memory after start | after warm-up | ${Array.from({ length: ROUNDS }, (_, i) => `after round ${i + 1}`).join(' | ')} | growth per call in round ${ROUNDS} |`,
    `|---|---|---|${'---|'.repeat(ROUNDS)}---|`,
    ...memoryRows,
    '',
    ...names.flatMap((name) => (skipped.has(name) ? [`**${LABELS[name]} not measured in this run**: ${skipped.get(name) ?? ''}. Its rows stay empty; nothing is estimated.`, ''] : [])),
    incidents.length === 0 ? 'Proxy processes: none died in this run.' : `Proxy processes in this run: ${incidents.join('; ')}.`,
    '',
    'Run: `bash scripts/bench.sh` (or `node dist/bench/proxy-load.bench.js` after a build;',
    '`SIPSEC_BENCH_PROXY_RATES=200,500` and `SIPSEC_BENCH_PROXY_SECONDS=5` change the cells); needs the Debian packages',
    '`kamailio` and `sip-tester`.',
  ].join('\n');
  const file = writeReportSection(REPO_ROOT, 'proxy-load', markdown);
  process.stderr.write(`wrote ${file}\n`);
}

await main();
