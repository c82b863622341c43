/**
 * The end-to-end demo (docs/DEMO.md): builds the lab (demo-lab.ts), then runs the real `sipsec`
 * CLI, one child process per command, and checks that each step shows what it should. A tool for
 * demos on one machine; `scripts/demo.sh` runs it through demo-main.ts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_DOMAINS, startDemoLab, type DemoLab } from './demo-lab.js';

export interface DemoOptions {
  /** An empty folder the demo works in; the caller removes it. */
  readonly dir: string;
  /** The built CLI entry, `dist/src/cli/main.js`. */
  readonly cliMain: string;
  /** The node binary that runs the CLI. */
  readonly nodePath: string;
  /** The torture messages (test/fixtures/sip-torture in the repository). */
  readonly tortureDir: string;
  readonly out: (text: string) => void;
  /** Aborting stops the command running and skips the rest; the lab is still stopped. */
  readonly signal?: AbortSignal;
  /**
   * Keep the lab running after the last step, until `signal` aborts, so that the printed commands
   * can be re-run by hand (`--keep` of demo-main.ts).
   */
  readonly keep?: boolean;
  /** Called when every step has run and the lab is being kept. */
  readonly onKept?: () => void;
}

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** The parts of `sipsec resolve --json` the checks read. */
interface ResolveJson {
  targets: { transport: string; address: string; port: number; srvHost?: string; dnssec: string; identities: string[]; tlsa?: { state: string; records: { usage: number; selector: number; matchingType: number; data: string }[] } }[];
  lookups: { name: string; type: string; state: string; why?: string }[];
}

/** The parts of `sipsec options --json` the checks read. */
interface OptionsJson {
  target: { dnssec?: string; srvHost?: string } | null;
  tls: { authenticated: boolean; method: string; matchedIdentity: string | null; reasons: { code: string }[] } | null;
  response: { status: number; reason: string; headers: [string, string][] } | null;
  attempts: { outcome: string }[];
}

/** The parts of `sipsec cert verify --json` the checks read. */
interface VerdictJson {
  authenticated: boolean;
  method: string;
  matchedIdentity: string | null;
  reasons: { code: string }[];
}

interface LintJson {
  file: string;
  valid: boolean;
  kind?: string;
  response?: number;
  responseReason?: string;
  errors: { code: string }[];
}

/** A few RFC 4475 messages and what a server does with each: `valid`, a status, or `drop` (a response). */
const TORTURE_SAMPLE: readonly (readonly [string, string])[] = [
  ['wsinv.dat', 'valid'],
  ['intmeth.dat', 'valid'],
  ['esc01.dat', 'valid'],
  ['ncl.dat', '400'],
  ['insuf.dat', '400'],
  ['badvers.dat', '505'],
  ['scalarlg.dat', 'drop'],
];

/** Runs every step; true when each showed what it should. The lab is stopped before returning. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const { out } = options;
  const failures: string[] = [];
  let step = 'setup';
  /** Every step ran (an interruption while the lab is kept afterwards is no failure). */
  let completed = false;
  const check = (ok: boolean, what: string): void => {
    out(`  ${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
    if (!ok) failures.push(`${step}: ${what}`);
  };
  const sipsec = async (args: readonly string[], show: boolean): Promise<CliRun> => {
    options.signal?.throwIfAborted();
    if (show) out(`$ sipsec ${args.map((a) => a.split(options.dir).join('$LAB')).join(' ')}\n`);
    const run = await runCli(options.nodePath, options.cliMain, args, options.signal);
    if (show) {
      const text = `${run.stdout}${run.stderr}`.trimEnd();
      const lines = text === '' ? [] : text.split('\n');
      // The headers of a response, except Warning and Reason (which name the failed check), are noise here.
      const shown = lines.filter((l) => !/^ {2}[A-Za-z-]+:/.test(l) || /^ {2}(Warning|Reason):/i.test(l));
      if (shown.length < lines.length) shown.push(`  (${lines.length - shown.length} more response headers)`);
      if (shown.length > 0) out(`${shown.map((l) => `  | ${l}`).join('\n')}\n`);
      out(`  (exit ${run.code}, ${run.ms} ms)\n`);
    }
    return run;
  };
  const json = async <T>(args: readonly string[]): Promise<{ run: CliRun; value: T | undefined }> => {
    const run = await sipsec([...args, '--json'], false);
    try {
      return { run, value: JSON.parse(run.stdout) as T };
    } catch {
      check(false, `sipsec ${args.join(' ')} --json printed no JSON: ${run.stderr.trim()}`);
      return { run, value: undefined };
    }
  };
  const heading = (id: string, text: string): void => {
    step = id;
    out(`\n== ${id}. ${text}\n`);
  };

  out(`sipsec demo: one machine, lab folder $LAB = ${options.dir}\n`);
  let lab: DemoLab | undefined;
  try {
    lab = await startDemoLab(options.dir, async (certFile, host, port) => {
      const run = await sipsec(['tlsa', 'generate', '--cert', certFile, '--host', host, '--port', String(port)], true);
      const m = /IN TLSA (3 1 1 [0-9A-Fa-f]{64})\s*$/.exec(run.stdout);
      if (run.code !== 0 || m?.[1] === undefined) throw new Error(`sipsec tlsa generate failed: ${run.stdout}${run.stderr}`);
      return m[1];
    });
    out([
      `private CA: $LAB/ca.pem; a sipsec Responder listens for TLS on 127.0.0.1:${lab.port}`,
      `NSD serves the zones on 127.0.0.1:${lab.nsdPort}: sipsec.test (signed, the trust anchor), b and evil`,
      '(signed, with TLSA), bogus (signed, then an address changed), open (unsigned, no DS)',
      'every command below uses --dns-config $LAB/libunbound.conf (stub zone + trust anchor)',
      '',
    ].join('\n'));
    const dns = ['--dns-config', lab.files.dnsConfig];

    heading('a', `RFC 3263 over DNSSEC: sips:${DEMO_DOMAINS.dane} is located through a secure NAPTR -> SRV -> A chain, and its server's TLSA record is found`);
    const uriA = `sips:${DEMO_DOMAINS.dane}`;
    await sipsec(['resolve', uriA, '--tlsa', ...dns], true);
    {
      const { run, value } = await json<ResolveJson>(['resolve', uriA, '--tlsa', ...dns]);
      const first = value?.targets[0];
      check(run.code === 0 && first?.transport === 'tls' && first.address === '127.0.0.1' && first.port === lab.port,
        `first target tls 127.0.0.1:${lab.port}`);
      check(first?.dnssec === 'secure', `every lookup of the chain is secure (${first?.dnssec})`);
      check(first?.identities.includes(`sip.${DEMO_DOMAINS.dane}`) === true,
        `the SRV host sip.${DEMO_DOMAINS.dane} is an accepted identity (the chain is secure)`);
      const record = first?.tlsa?.records[0];
      const published = lab.tlsa[DEMO_DOMAINS.dane]?.toLowerCase();
      check(first?.tlsa?.state === 'secure' && record !== undefined &&
        `${record.usage} ${record.selector} ${record.matchingType} ${record.data.toLowerCase()}` === published,
      'TLSA found, secure, and equal to the record sipsec tlsa generate made');
    }

    heading('b', `DANE-EE: sipsec options ${uriA} gets 200 OK; the hop is authenticated by the TLSA record alone (no --ca: the private CA is not trusted)`);
    await sipsec(['options', uriA, ...dns, '--timeout', '8000'], true);
    {
      const { run, value } = await json<OptionsJson>(['options', uriA, ...dns, '--timeout', '8000']);
      check(run.code === 0 && value?.response?.status === 200, `response 200 (${value?.response?.status ?? 'none'})`);
      check(value?.tls?.authenticated === true && value.tls.method === 'dane-ee', `verdict: authenticated by ${value?.tls?.method ?? 'nothing'}`);
    }

    const uriC = `sips:${DEMO_DOMAINS.wrongTlsa}`;
    heading('c', `TLSA present but not matching: ${DEMO_DOMAINS.wrongTlsa}'s certificate is valid under the private CA, yet the request gets an immediate 503 dane-no-match, with no fallback to PKIX`);
    out('first, the certificate alone passes RFC 5922 + PKIX with the CA trusted:\n');
    {
      const run = await sipsec(['cert', 'verify', '--chain', lab.files.wrongTlsaPem, '--domain', DEMO_DOMAINS.wrongTlsa, '--ca', lab.files.caPem], true);
      check(run.code === 0, 'RFC 5922 + PKIX alone would accept this server');
    }
    out('then the request, with the same CA trusted (--ca) and the secure TLSA record in force:\n');
    await sipsec(['options', uriC, '--ca', lab.files.caPem, ...dns, '--timeout', '8000'], true);
    {
      const { run, value } = await json<OptionsJson>(['options', uriC, '--ca', lab.files.caPem, ...dns, '--timeout', '8000']);
      check(run.code === 1 && value?.response?.status === 503, `response 503 (${value?.response?.status ?? 'none'})`);
      check(value?.attempts.length === 1 && value.attempts[0]?.outcome !== 'network', 'made locally, after one attempt');
      check(value?.tls?.authenticated === false && value.tls.reasons.some((r) => r.code === 'dane-no-match'),
        `verdict names dane-no-match (${value?.tls?.reasons.map((r) => r.code).join(', ') ?? 'no verdict'})`);
      check(value?.tls?.method === 'none', `no fallback: method ${value?.tls?.method ?? 'none'}, not pkix`);
      const warning = value?.response?.headers.find(([name]) => name.toLowerCase() === 'warning')?.[1] ?? '';
      check(/dane-no-match/.test(warning), 'the 503 itself names dane-no-match (Warning 399)');
      check(run.ms < 4000, `answered in ${run.ms} ms, not after the 8000 ms timeout`);
    }

    const uriD = `sips:${DEMO_DOMAINS.bogus}`;
    heading('d', `Bogus DNSSEC: the address of sip.${DEMO_DOMAINS.bogus} was changed after signing; no target, bogus named, nothing is contacted`);
    await sipsec(['resolve', uriD, ...dns], true);
    {
      const { run, value } = await json<ResolveJson>(['resolve', uriD, ...dns]);
      check(run.code === 1 && value?.targets.length === 0, 'no target');
      const bogus = value?.lookups.find((l) => l.state === 'bogus');
      check(bogus !== undefined, `bogus named: ${bogus === undefined ? 'no bogus lookup' : `${bogus.type} ${bogus.name}${bogus.why ? ` (${bogus.why})` : ''}`}`);
    }
    await sipsec(['options', uriD, ...dns, '--timeout', '8000'], true);
    {
      const { run, value } = await json<OptionsJson>(['options', uriD, ...dns, '--timeout', '8000']);
      check(run.code === 1 && value?.attempts.length === 0, 'sipsec options sends nothing');
    }

    const uriE = `sips:${DEMO_DOMAINS.insecure}`;
    heading('e', `RFC 5922 only: ${DEMO_DOMAINS.insecure} is an insecure (unsigned) delegation, so DANE does not apply and the certificate must name the SIP domain`);
    await sipsec(['options', uriE, '--ca', lab.files.caPem, ...dns, '--timeout', '8000'], true);
    {
      const { run, value } = await json<OptionsJson>(['options', uriE, '--ca', lab.files.caPem, ...dns, '--timeout', '8000']);
      check(value?.target?.dnssec === 'insecure', `the chain is insecure (${value?.target?.dnssec ?? 'no target'})`);
      check(run.code === 0 && value?.response?.status === 200, `response 200 (${value?.response?.status ?? 'none'})`);
      check(value?.tls?.method === 'rfc5922' && value.tls.matchedIdentity === DEMO_DOMAINS.insecure,
        `verdict: ${value?.tls?.method ?? 'none'}, matched ${value?.tls?.matchedIdentity ?? 'nothing'}`);
    }
    out(`a certificate from the same CA for another name (mallory.sipsec.test), checked against ${DEMO_DOMAINS.insecure}:\n`);
    await sipsec(['cert', 'verify', '--chain', lab.files.otherNamePem, '--domain', DEMO_DOMAINS.insecure, '--ca', lab.files.caPem], true);
    {
      const { run, value } = await json<VerdictJson>(['cert', 'verify', '--chain', lab.files.otherNamePem, '--domain', DEMO_DOMAINS.insecure, '--ca', lab.files.caPem]);
      check(run.code === 1 && value?.authenticated === false && value.reasons.some((r) => r.code === 'name-mismatch'),
        `refused: ${value?.reasons.map((r) => r.code).join(', ') ?? 'no verdict'}`);
    }

    heading('f', 'sipsec lint: RFC 4475 torture messages, and the response a server sends to each');
    {
      const files = TORTURE_SAMPLE.map(([name]) => join(options.tortureDir, 'rfc4475', name));
      out(`$ sipsec lint ${TORTURE_SAMPLE.map(([name]) => `rfc4475/${name}`).join(' ')}\n`);
      const run = await runCli(options.nodePath, options.cliMain, ['lint', '--json', ...files], options.signal);
      const lines = run.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LintJson);
      if (lines.length === 0) throw new Error(`sipsec lint printed nothing (exit ${run.code}): ${run.stderr.split('\n')[0] ?? ''}`);
      for (const [i, [name, expected]] of TORTURE_SAMPLE.entries()) {
        const line = lines[i];
        const got = line === undefined ? 'missing' : line.valid ? 'valid' : line.response === undefined ? 'drop' : String(line.response);
        const detail = line === undefined ? run.stderr.trim()
          : line.valid ? `valid ${line.kind ?? ''}`
          : `invalid -> ${line.response === undefined ? 'no response (it is a response)' : `${line.response} ${line.responseReason ?? ''}`} [${line.errors[0]?.code ?? ''}]`;
        check(got === expected, `${name.padEnd(13)} ${detail}`);
      }
    }
    completed = true;
  } catch (err) {
    const message = options.signal?.aborted === true ? 'interrupted' : err instanceof Error ? err.message : String(err);
    failures.push(`${step}: ${message}`);
    out(`\nFAIL at step ${step}: ${message}\n`);
  } finally {
    if (options.keep === true && completed && lab !== undefined && options.signal !== undefined && !options.signal.aborted) {
      out(`\nthe lab keeps running (--keep): in another shell, run\n  export LAB=${options.dir}\nand the commands above (sipsec on the PATH: npm link, or npx sipsec in the checkout). Ctrl-C stops the lab.\n`);
      const signal = options.signal;
      options.onKept?.();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    await lab?.stop();
  }
  if (options.signal?.aborted === true && !completed && !failures.some((f) => f.includes('interrupted'))) failures.push(`${step}: interrupted`);
  out(failures.length === 0
    ? '\ndemo: every step showed what it should\n'
    : `\ndemo FAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  return failures.length === 0;
}

/** Runs `node cli/main.js ARGS`; resolves with the exit code and output, never rejects on a non-zero exit. */
function runCli(nodePath: string, cliMain: string, args: readonly string[], signal?: AbortSignal): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(nodePath, [cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // An abort also arrives here (AbortError), after the child was sent SIGTERM.
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({
      code: code ?? (signal !== null ? 128 : 2),
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      ms: Date.now() - started,
    }));
  });
}
