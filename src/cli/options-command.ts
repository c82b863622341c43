import net from 'node:net';
import os from 'node:os';
import { locateInputOf } from '../dns/locate-uri.js';
import { locate, type LocatedTarget } from '../dns/locator.js';
import { lookupTlsaForTarget } from '../dns/tlsa-lookup.js';
import { SipParseError } from '../sip/errors.js';
import type { SipResponse } from '../sip/message.js';
import { parseSipUri, type SipUri } from '../sip/uri.js';
import { renderVerdict, type PeerVerdict } from '../tls/verdict.js';
import type { ServerTarget } from '../tls/verify-peer.js';
import { TransactionLayer, type ResponseInfo } from '../transaction/transaction-layer.js';
import { isSecureTransport, TransportError, type Destination, type TransportProtocol } from '../transport/transport-context.js';
import { TransportLayer } from '../transport/transport-layer.js';
import { buildRequest } from '../ua/build-request.js';
import { EXIT_FINDINGS, EXIT_OK, parseCommandArgs, UsageError, type Command } from './command.js';
import { readInputFile } from './input-file.js';
import { createResolverFor, DNS_OPTIONS, type DnsOptionValues } from './dns-options.js';
import { readTrustStore } from './tls-command-input.js';

const USAGE = `usage: sipsec options URI [--ca FILE]... [--cert FILE --key FILE] [--to ADDR[:PORT]]
                      [--dns-config FILE | --backend NAME --server ADDR] [--timeout MS] [--json]
  Sends OPTIONS to a sip: or sips: URI and prints the response and the verdict on the TLS hop.
  Servers are located by RFC 3263 (DNSSEC-aware); each target is tried in order until one answers.
  --ca FILE          trusted roots (PEM); default: the roots Node ships (Mozilla store)
  --cert, --key      our certificate and key (PEM), for mutual TLS
  --to ADDR[:PORT]   send to this address instead of locating; the URI's domain is still what the
                     server's certificate is verified against. Needed for WebSocket (RFC 7118):
                     sip:...;transport=ws (port 80 by default), sips:...;transport=ws or
                     transport=wss (WSS, port 443 by default), handshake path '/'
  --dns-config, --backend, --server   as for 'sipsec resolve'
  --timeout MS       give up on a target after this long (default 32000, Timer F)
  --json             one JSON object: {"uri","target","tls","response","attempts"}
exit: 0 a 2xx answer over a verified (or plain) hop, 1 any other outcome, 2 usage error`;

interface Attempt {
  target: { transport: TransportProtocol; address: string; port: number; srvHost?: string; dnssec?: string };
  outcome: string;
  tls: PeerVerdict | null;
  response: { status: number; reason: string; headers: Array<[string, string]> } | null;
}

export const optionsCommand: Command = {
  name: 'options',
  summary: 'send OPTIONS to a SIP URI and show the response and the TLS verdict of the hop',
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
      uri = parseSipUri(positionals[0] ?? '');
    } catch (err) {
      if (err instanceof SipParseError) throw new UsageError(`not a sip: or sips: URI: ${err.detail}`, { cause: err });
      throw err;
    }
    if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
    const timeoutMs = values.timeout === undefined ? 32_000 : Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError(`--timeout must be a positive number of milliseconds, not ${values.timeout}`);
    const trustStore = await readTrustStore(values.ca);
    const clientCertificate = values.cert !== undefined && values.key !== undefined
      ? { cert: (await readInputFile(values.cert, '--cert')).toString('utf8'), key: (await readInputFile(values.key, '--key')).toString('utf8') }
      : undefined;

    const asked = transportOf(uri);
    if (values.to === undefined && (asked === 'ws' || asked === 'wss')) {
      throw new UsageError(`locating WebSocket servers (RFC 7118 section 5.5, SIP+D2W) is not done: give --to ADDR[:PORT] for ${uri.toString()}`);
    }
    const targets = values.to !== undefined ? [directTarget(uri, values.to)] : await locateTargets(uri, values);
    const attempts: Attempt[] = [];
    for (const target of targets) {
      const attempt = await sendOptions(uri, target, { trustStore, clientCertificate, timeoutMs });
      attempts.push(attempt);
      // RFC 3263 section 4.3: on a transport failure or timeout, try the next target.
      if (attempt.response !== null && attempt.outcome === 'network') break;
    }
    const last = attempts[attempts.length - 1];
    const ok = last !== undefined && last.outcome === 'network' && last.response !== null && last.response.status >= 200 && last.response.status < 300 &&
      (!isSecureTransport(last.target.transport) || last.tls?.authenticated === true);
    if (values.json === true) {
      io.stdout(`${JSON.stringify({ uri: uri.toString(), target: last?.target ?? null, tls: last?.tls ?? null, response: last?.response ?? null, attempts })}\n`);
    } else {
      io.stdout(attempts.length === 0 ? `no target found for ${uri.toString()}\n` : attempts.map(renderAttempt).join('\n'));
    }
    return ok ? EXIT_OK : EXIT_FINDINGS;
  },
};

interface Target {
  readonly destination: Destination;
  readonly located?: LocatedTarget;
}

function directTarget(uri: SipUri, to: string): Target {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(to);
  const address = m?.[1] ?? m?.[2];
  if (m === null || address === undefined || net.isIP(address) === 0) throw new UsageError(`--to needs an IP address and optional port, not '${to}'`);
  const transport = transportOf(uri);
  const port = m[3] === undefined ? DEFAULT_PORT[transport] : Number(m[3]);
  return {
    destination: {
      transport,
      address,
      port,
      ...(isSecureTransport(transport) ? { tlsTarget: { sipDomain: uri.host } } : {}),
      // RFC 7118: the Host header of the WebSocket handshake names the URI's host, not the address.
      ...(transport === 'ws' || transport === 'wss' ? { wsHost: uri.host } : {}),
    },
  };
}

/** Ports when none is given: RFC 3261 section 19.1.2; RFC 7118 section 5.5 for WebSocket (80, and 443 for sips). */
const DEFAULT_PORT: Readonly<Record<TransportProtocol, number>> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };

/**
 * The transport a URI asks for: sips means TLS, or WSS with transport=ws (RFC 7118 section 5.2
 * defines only `ws`; `sips:` makes it secure); transport=wss is accepted as WSS too.
 */
function transportOf(uri: SipUri): TransportProtocol {
  const param = uri.param('transport');
  const asked = typeof param === 'string' ? param.toLowerCase() : undefined;
  if (asked === 'ws' || asked === 'wss') return uri.scheme === 'sips' || asked === 'wss' ? 'wss' : 'ws';
  if (uri.scheme === 'sips') return 'tls';
  if (asked === 'udp' || asked === 'tcp' || asked === 'tls') return asked;
  return 'udp';
}

async function locateTargets(uri: SipUri, values: DnsOptionValues): Promise<Target[]> {
  const resolver = await createResolverFor(values);
  try {
    const result = await locate(resolver, locateInputOf(uri));
    const targets: Target[] = [];
    for (const located of result.targets) {
      if (located.transport !== 'udp' && located.transport !== 'tcp' && located.transport !== 'tls') continue;
      let tlsTarget: ServerTarget | undefined;
      if (located.transport === 'tls') {
        const tlsa = await lookupTlsaForTarget(resolver, located);
        tlsTarget = {
          sipDomain: uri.host,
          ...(located.srvHost !== undefined ? { srvHost: located.srvHost } : {}),
          dnsState: located.dnssec,
          ...(tlsa !== undefined ? { tlsa } : {}),
        };
      }
      targets.push({ destination: { transport: located.transport, address: located.address, port: located.port, ...(tlsTarget ? { tlsTarget } : {}) }, located });
    }
    return targets;
  } finally {
    await resolver.close?.();
  }
}

async function sendOptions(
  uri: SipUri,
  target: Target,
  options: { trustStore: Awaited<ReturnType<typeof readTrustStore>>; clientCertificate: { cert: string; key: string } | undefined; timeoutMs: number },
): Promise<Attempt> {
  const { destination } = target;
  const family = net.isIPv6(destination.address) ? 6 : 4;
  const loopback = destination.address === '127.0.0.1' || destination.address === '::1' || destination.address.startsWith('127.');
  const bindAddress = loopback ? (family === 6 ? '::1' : '127.0.0.1') : family === 6 ? '::' : '0.0.0.0';
  let verdict: PeerVerdict | null = null;
  // The transport is built first and hands messages to the transaction layer built next.
    const layers: { transactions?: TransactionLayer } = {};
  const transport = await TransportLayer.start({
    listeners: destination.transport === 'udp' ? [{ transport: 'udp', address: bindAddress, port: 0 }] : [],
    trustStore: options.trustStore,
    ...(options.clientCertificate ? { clientCertificate: options.clientCertificate } : {}),
    onMessage: (message, context) => layers.transactions?.receive(message, context),
    onConnectionClosed: (connectionId, reason) => layers.transactions?.connectionLost(connectionId, reason),
    log: () => undefined,
  });
  const udpPort = transport.listening()[0]?.port;
  const transactions = new TransactionLayer({
    send: async (message, to) => {
      try {
        const { peer, connectionId } = await transport.send(message, to);
        if (peer !== undefined) verdict = peer;
        return { connectionId };
      } catch (err) {
        if (err instanceof TransportError && err.verdict !== undefined) verdict = err.verdict;
        throw err;
      }
    },
    // Timer F bounds the wait: 64*T1, so T1 follows from the timeout asked for.
    timers: { t1Ms: Math.max(1, Math.floor(options.timeoutMs / 64)) },
  });
  layers.transactions = transactions;
  const request = buildRequest({
    method: 'OPTIONS',
    uri,
    from: `sip:sipsec@${os.hostname() || 'localhost'}`,
    via: { transport: destination.transport, host: loopback ? bindAddress.replace(/^::1$/, '[::1]') : os.hostname() || 'localhost', ...(udpPort !== undefined ? { port: udpPort } : {}) },
    userAgent: 'sipsec',
    headers: [['accept', 'application/sdp']],
  });
  try {
    const { response, info } = await new Promise<{ response: SipResponse; info: ResponseInfo }>((resolve) => {
      transactions.sendRequest(request, destination, {
        onResponse: (res, inf) => {
          if (res.status >= 200) resolve({ response: res, info: inf });
        },
      });
    });
    return {
      target: {
        transport: destination.transport,
        address: destination.address,
        port: destination.port,
        ...(target.located?.srvHost !== undefined ? { srvHost: target.located.srvHost } : {}),
        ...(target.located !== undefined ? { dnssec: target.located.dnssec } : {}),
      },
      outcome: info.origin,
      // A received response carries the verdict on its connection (its TransportContext); the
      // send result may come later than the response on a fast loopback, so it is the fallback.
      tls: info.context?.peer ?? verdict,
      response: { status: response.status, reason: response.reason, headers: response.headers.map((h) => [h.name, h.value]) },
    };
  } finally {
    await transactions.close({ force: true });
    await transport.close();
  }
}

function renderAttempt(attempt: Attempt): string {
  const t = attempt.target;
  const lines = [`target: ${t.transport} ${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}${t.srvHost ? ` (SRV ${t.srvHost})` : ''}${t.dnssec ? ` dnssec ${t.dnssec}` : ''}`];
  if (attempt.tls !== null) lines.push(...renderVerdict(attempt.tls).trimEnd().split('\n').map((l) => `tls: ${l}`));
  if (attempt.response !== null) {
    const origin = attempt.outcome === 'network' ? '' : ` (made locally: ${attempt.outcome})`;
    lines.push(`response: ${attempt.response.status} ${attempt.response.reason}${origin}`);
    for (const [name, value] of attempt.response.headers) lines.push(`  ${name}: ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
