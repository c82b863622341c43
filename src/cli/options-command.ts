import { DNS_LIMITS } from '../limits.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import net from 'node:net';
import { DnsError } from '../dns/errors.js';
import type { LocateResult, SendableTarget } from '../dns/locator.js';
import { SipParseError } from '../sip/errors.js';
import { serializeMessage } from '../sip/serialize-message.js';
import { parseSipUri, type SipUri } from '../sip/uri.js';
import { terminalSafe } from '../terminal-text.js';
import { asciiUriArgument } from './uri-argument.js';
import { renderVerdict, type PeerVerdict } from '../tls/verdict.js';
import { isSecureTransport, type Destination, type TransportProtocol } from '../transport/transport-context.js';
import type { TransportLogEvent } from '../transport/transport-log.js';
import { destinationsFor, directDestination, transportOf } from '../ua/destinations.js';
import { failoverLoop, failsOver } from '../ua/failover.js';
import { requestOnce, type RequestOnceResult, type RequestOutcome } from '../ua/request-once.js';
import { EXIT_FINDINGS, EXIT_NO_ANSWER, EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { createResolverFor, DNS_OPTIONS, type DnsOptionValues } from './dns-options.js';
import { jsonDocument } from './json-output.js';
import { jsonLookup, lookupLine, noTargetExit, noTargetLine } from './lookup-output.js';
import { startProgress, type Progress } from './progress.js';
import { InputReader, readTrustStore } from './tls-command-input.js';

const DEFAULT_TIMEOUT_MS = 32_000;

const USAGE = `usage: sipsec options URI [--ca FILE]... [--cert FILE --key FILE] [--to ADDR[:PORT]]
                      [--dns-config FILE | --backend NAME --server ADDR] [--timeout MS] [--json]
  Sends OPTIONS to a sip: or sips: URI and prints the response, the round-trip time, the TLS
  version and cipher, and the verdict on the TLS hop. Servers are located by RFC 3263
  (DNSSEC-aware); each target is tried in order until one answers. When locating fails, the
  failed lookup is named with its state (bogus and why, nxdomain, nodata, timeout, resolver unreachable).
  --ca FILE          trusted roots (PEM); default: the roots Node ships (Mozilla store)
  --cert, --key      our certificate and its private key (PEM), for mutual TLS; checked to match
  --to ADDR[:PORT]   send to this address instead of locating (IPv6: [::1]:5061); the URI's domain
                     is still what the server's certificate is verified against. Needed for
                     WebSocket (RFC 7118): sip:...;transport=ws (port 80 by default),
                     sips:...;transport=ws or transport=wss (WSS, port 443 by default), path '/'
  --dns-config, --backend, --server   as for 'sipsec resolve'
  --timeout MS       one deadline per target for connecting, the TLS handshake and the final
                     response (default ${DEFAULT_TIMEOUT_MS}, Timer F)
  --json             one JSON document (schema sipsec.options/1, docs/CLI.md)
  --verbose          also the request sent, and raw transport and TLS library messages on stderr
exit: 0 a 2xx over a verified hop (or over plain transport when the URI asked for plain),
      1 a finding (another status, the server not verified, DNSSEC bogus, bytes that are not SIP),
      2 usage error, 3 no answer (no target in DNS, connection refused or reset, handshake failed, timeout)`;

interface Target {
  readonly destination: Destination;
  readonly located?: SendableTarget;
}

interface JsonTarget {
  transport: TransportProtocol;
  address: string;
  port: number;
  srvHost?: string;
  dnssec?: string;
}

interface Attempt {
  readonly target: JsonTarget;
  readonly result: RequestOnceResult;
}

export const optionsCommand: Command = {
  name: 'options',
  summary: 'send OPTIONS to a SIP URI; show the response, the TLS session and the verdict on the hop',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ca: { type: 'string', multiple: true },
        cert: { type: 'string' },
        key: { type: 'string' },
        to: { type: 'string' },
        ...DNS_OPTIONS,
        timeout: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no URI given' : 'one URI only');
    let uri: SipUri;
    try {
      uri = parseSipUri(asciiUriArgument(positionals[0] ?? ''));
    } catch (err) {
      if (err instanceof SipParseError) throw new UsageError(`not a sip: or sips: URI: ${err.detail}`, { cause: err });
      throw err;
    }
    if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
    const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(values.timeout);
    if (!/^\d+$/.test(values.timeout ?? '1') || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      throw new UsageError(`--timeout must be a positive number of milliseconds, not ${values.timeout}`);
    }
    const asked = transportOf(uri);
    // Every input is checked before anything is sent or looked up.
    const to = values.to === undefined ? undefined : parseTo(values.to);
    if (to === undefined && (asked === 'ws' || asked === 'wss')) {
      throw new UsageError(`locating WebSocket servers (RFC 7118 section 5.5, SIP+D2W) is not done: give --to ADDR[:PORT] for ${uri.toString()}`);
    }
    const trustStore = await readTrustStore(values.ca);
    const clientCertificate = values.cert !== undefined && values.key !== undefined ? await readClientCertificate(values.cert, values.key) : undefined;

    const json = values.json === true;
    const progress = startProgress(io, `resolving ${uri.toString()}`);
    try {
      let located: LocateResult | undefined;
      let targets: Target[];
      if (to !== undefined) {
        targets = [{ destination: directDestination(uri, to) }];
      } else {
        ({ located, targets } = await locateTargets(uri, values, timeoutMs));
      }
      const attemptAt = async (target: Target): Promise<Attempt> => {
        const { destination } = target;
        progress.step(`connecting to ${destination.transport} ${hostPort(destination.address, destination.port)}`);
        const result = await requestOnce({
          uri,
          destination,
          trustStore,
          ...(clientCertificate ? { clientCertificate } : {}),
          timeoutMs,
          headers: [['accept', 'application/sdp']],
          ...(io.verbose === true ? { log: (e: TransportLogEvent) => io.stderr(`sipsec options: ${logLine(e)}\n`) } : {}),
          onPhase: (phase) => progressPhase(progress, phase, destination),
        });
        return { target: jsonTarget(target), result };
      };
      // RFC 3263 section 4.3, the library's rule (src/ua/failover.ts): the next target after a
      // transport failure, a refused server, a 503 or no answer in time.
      const attempts = await failoverLoop(targets, attemptAt, (a) => failsOverAttempt(a.result));
      progress.stop();
      const code = located !== undefined && targets.length === 0 ? noTargetExit(located.lookups) : exitOf(attempts[attempts.length - 1]);
      io.stdout(json ? jsonOf(uri, located, attempts, code, io.verbose === true) : textOf(uri, located, targets.length, attempts, io.verbose === true));
      return code;
    } finally {
      progress.stop();
    }
  },
};

function progressPhase(progress: Progress, phase: 'connecting' | 'waiting', destination: Destination): void {
  const where = `${destination.transport} ${hostPort(destination.address, destination.port)}`;
  progress.step(phase === 'connecting' ? `connecting to ${where}` : `waiting for a response from ${where}`);
}

function logLine(e: TransportLogEvent): string {
  const remote = e.remote === undefined ? '' : ` remote=${hostPort(e.remote.address, e.remote.port)}`;
  return `${e.event}${e.connection === undefined ? '' : ` ${e.connection}`}${remote}${e.reason === undefined ? '' : ` reason="${e.reason}"`}${e.detail === undefined ? '' : ` detail="${e.detail}"`}`;
}

/** Whether an attempt sends the request on to the next target: failsOver, or no final response at all (a deadline, bytes that are not SIP). */
function failsOverAttempt(result: RequestOnceResult): boolean {
  if (result.outcome === 'aborted') return false;
  if (result.response === undefined || result.origin === undefined) return true;
  return failsOver({ status: result.response.status, origin: result.origin });
}

/** Success, finding or no answer, from the last attempt (docs/CLI.md "Exit codes"). */
function exitOf(attempt: Attempt | undefined): number {
  if (attempt === undefined) return EXIT_NO_ANSWER;
  const { result, target } = attempt;
  if (result.outcome === 'response') {
    const status = result.response?.status ?? 0;
    const verified = !isSecureTransport(target.transport) || result.verdict?.authenticated === true;
    return status >= 200 && status < 300 && verified ? EXIT_OK : EXIT_FINDINGS;
  }
  return FINDING_OUTCOMES.has(result.outcome) ? EXIT_FINDINGS : EXIT_NO_ANSWER;
}

/** Outcomes where the server answered but is not verified or did not speak SIP: findings, not silence. */
const FINDING_OUTCOMES: ReadonlySet<RequestOutcome> = new Set<RequestOutcome>(['peer-not-authenticated', 'tls-required-not-offered', 'no-client-certificate', 'framing-error']);

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** `--to`: an IP address literal and an optional port, IPv6 in brackets; anything else is a usage error. */
function parseTo(to: string): { address: string; port: number | undefined } {
  if (net.isIPv6(to)) throw new UsageError(`--to ${to}: write an IPv6 address in brackets, with the port after them: [${to}]:PORT`);
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::([^:]*))?$/.exec(to);
  const address = m?.[1] ?? m?.[2];
  if (m === null || address === undefined || (m[1] !== undefined ? !net.isIPv6(address) : !net.isIPv4(address))) {
    throw new UsageError(`--to needs an IP address and optional port (192.0.2.1:5061, [2001:db8::1]:5061), not '${to}'`);
  }
  if (m[3] === undefined) return { address, port: undefined };
  const port = Number(m[3]);
  if (!/^\d{1,5}$/.test(m[3]) || port < 1 || port > 65_535) throw new UsageError(`--to ${to}: the port must be from 1 to 65535, not '${m[3]}'`);
  return { address, port };
}

/**
 * `--cert` and `--key`: read, parsed and matched before anything is sent, so that swapped files or
 * a key of another certificate are named here, not reported later as a failed handshake.
 */
async function readClientCertificate(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  // `-` reads standard input, for one of the two.
  const input = new InputReader();
  const cert = (await input.read(certFile, '--cert')).toString('utf8');
  const key = (await input.read(keyFile, '--key')).toString('utf8');
  const certHoldsKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(cert);
  const keyHoldsCert = /-----BEGIN CERTIFICATE-----/.test(key);
  if (certHoldsKey && keyHoldsCert) throw new UsageError(`--cert ${certFile} holds a private key and --key ${keyFile} a certificate: the two are swapped`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new UsageError(certHoldsKey ? `--cert ${certFile} holds a private key, not a certificate` : `--cert ${certFile}: not a PEM certificate`, { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new UsageError(keyHoldsCert ? `--key ${keyFile} holds a certificate, not a private key` : `--key ${keyFile}: not an unencrypted PEM private key`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) throw new UsageError(`--key ${keyFile} does not belong to the certificate in --cert ${certFile}`);
  return { cert, key };
}

async function locateTargets(uri: SipUri, values: DnsOptionValues, timeoutMs: number): Promise<{ located: LocateResult; targets: Target[] }> {
  // --timeout bounds each DNS query too: a resolver that does not answer ends as a `timeout` lookup.
  const resolver = await createResolverFor(values, { queryTimeoutMs: Math.min(DNS_LIMITS.queryTimeoutMs, timeoutMs) });
  try {
    const { located, destinations } = await destinationsFor(resolver, uri);
    return { located, targets: [...destinations] };
  } catch (err) {
    if (err instanceof DnsError) throw new UsageError(`${uri.toString()}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await resolver.close();
  }
}

function jsonTarget(target: Target): JsonTarget {
  const { destination, located } = target;
  return {
    transport: destination.transport,
    address: destination.address,
    port: destination.port,
    ...(located?.srvHost !== undefined ? { srvHost: located.srvHost } : {}),
    ...(located !== undefined ? { dnssec: located.dnssec } : {}),
  };
}

function jsonAttempt(attempt: Attempt, verbose: boolean): object {
  const { result } = attempt;
  return {
    target: attempt.target,
    outcome: result.outcome,
    detail: result.detail ?? null,
    tls: result.verdict ?? null,
    session: result.tls ?? null,
    rttMs: result.rttMs ?? null,
    response: result.response === undefined ? null : {
      status: result.response.status,
      reason: result.response.reason,
      origin: result.origin ?? null,
      headers: result.response.headers.map((h) => [h.name, h.value]),
    },
    fault: result.fault ?? null,
    ...(verbose ? { request: serializeMessage(result.request).toString('utf8') } : {}),
  };
}

function jsonOf(uri: SipUri, located: LocateResult | undefined, attempts: readonly Attempt[], exit: number, verbose: boolean): string {
  const all = attempts.map((a) => jsonAttempt(a, verbose)) as Array<Record<string, unknown>>;
  const last = all[all.length - 1];
  return jsonDocument('options', {
    uri: uri.toString(),
    exit,
    outcome: last?.outcome ?? 'no-target',
    located: located === undefined ? null : { domain: located.domain, lookups: located.lookups.map(jsonLookup), ...(located.targets.length === 0 || attempts.length === 0 ? { why: noTargetLine(located.lookups) } : {}) },
    target: last?.target ?? null,
    tls: last?.tls ?? null,
    session: last?.session ?? null,
    rttMs: last?.rttMs ?? null,
    response: last?.response ?? null,
    attempts: all,
  });
}

function textOf(uri: SipUri, located: LocateResult | undefined, targetCount: number, attempts: readonly Attempt[], verbose: boolean): string {
  const lines: string[] = [];
  if (located !== undefined && targetCount === 0) {
    lines.push(`${uri.toString()}: ${noTargetLine(located.lookups)}`, 'lookups:', ...located.lookups.map((l) => `  ${lookupLine(l)}`));
    return `${lines.join('\n')}\n`;
  }
  if (located !== undefined && verbose) lines.push('lookups:', ...located.lookups.map((l) => `  ${lookupLine(l)}`));
  for (const attempt of attempts) lines.push(...attemptLines(attempt, verbose));
  const last = attempts[attempts.length - 1];
  if (last !== undefined) lines.push(summaryLine(uri, last));
  // The response's reason phrase and headers, and the certificate's names, are the peer's text.
  return `${terminalSafe(lines.join('\n'))}\n`;
}

/** Outcomes that come after the request was written to the peer (the others end before). */
const WENT_OUT: ReadonlySet<string> = new Set(['response', 'timeout', 'framing-error', 'connection-reset']);

function attemptLines(attempt: Attempt, verbose: boolean): string[] {
  const t = attempt.target;
  const { result } = attempt;
  const lines = [`target: ${t.transport} ${hostPort(t.address, t.port)}${t.srvHost ? ` (SRV ${t.srvHost})` : ''}${t.dnssec ? ` dnssec ${t.dnssec}` : ''}`];
  if (verbose) lines.push(WENT_OUT.has(result.outcome) ? 'request sent:' : 'request (not sent):', ...serializeMessage(result.request).toString('utf8').trimEnd().split('\r\n').map((l) => `  > ${l}`));
  if (result.tls !== undefined) lines.push(`tls: ${result.tls.protocol}, cipher ${result.tls.cipher}`);
  // A refused or reset connection has a verdict with no certificate in it: it says nothing the failure line does not.
  const handshakeFailure = result.outcome === 'tls-handshake-failed' || result.outcome === 'tls-timeout';
  if (result.verdict !== undefined && (result.verdict.attempted !== 'none' || handshakeFailure || verbose)) lines.push(...verdictLines(result.verdict, verbose));
  if (result.outcome !== 'response') lines.push(`failed: ${result.outcome}${result.detail === undefined ? '' : `: ${result.detail}`}`);
  if (result.response !== undefined) {
    const origin = result.origin === 'network' ? (result.rttMs === undefined ? '' : ` (round trip ${result.rttMs} ms)`) : ` (made locally: ${result.origin ?? 'unknown'})`;
    lines.push(`response: ${result.response.status} ${result.response.reason}${origin}`);
    for (const h of result.response.headers) lines.push(`  ${h.name}: ${h.value}`);
  }
  return lines;
}

/**
 * The verdict as text. A verdict on a failed handshake holds the TLS library's message (OpenSSL's,
 * with its source paths): shown with --verbose only, the vocabulary word otherwise.
 */
function verdictLines(verdict: PeerVerdict, verbose: boolean): string[] {
  if (verdict.attempted === 'none' && !verbose && verdict.reasons.every((r) => r.code === 'tls-handshake-failed' || r.code === 'tls-timeout')) {
    return [`tls: NOT authenticated: ${verdict.reasons.map((r) => r.code).join(', ')} (--verbose shows the TLS library's message)`];
  }
  return renderVerdict(verdict).trimEnd().split('\n').map((l) => `tls: ${l}`);
}

/** The last line: what the exit code means for this run, in words. */
function summaryLine(uri: SipUri, attempt: Attempt): string {
  const { result, target } = attempt;
  if (result.outcome !== 'response' || result.response === undefined) {
    if (result.outcome === 'framing-error') return 'result: finding (framing-error): the server sent bytes that are not SIP';
    if (FINDING_OUTCOMES.has(result.outcome)) return `result: finding (${result.outcome}): the hop was not verified, nothing was sent over it`;
    return `result: no answer (${result.outcome})`;
  }
  const status = `${result.response.status} ${result.response.reason}`;
  if (!isSecureTransport(target.transport)) {
    return `result: ${status} over plain ${target.transport.toUpperCase()}, as ${uri.scheme}: asked: the hop is neither encrypted nor verified`;
  }
  const verdict = result.verdict;
  return verdict?.authenticated === true
    ? `result: ${status} over ${target.transport.toUpperCase()}, server verified (${verdict.method}${verdict.matchedIdentity === null ? '' : `, ${verdict.matchedIdentity}`})`
    : `result: ${status} over ${target.transport.toUpperCase()}, but the server is NOT verified`;
}
