import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP, Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import { DNS_LIMITS } from '../limits.js';
import type { DnsBackend } from './backend.js';
import { answerFromMessage, decodeMessage, type DecodedPacket } from './dns-message.js';
import { normalizeName } from './dns-name.js';
import { DnsConfigError, DnsError } from './errors.js';
import type { DnsAnswer, DnsRecordType } from './records.js';

export interface AdBitBackendConfig {
  /** The validating resolver: `127.0.0.1`, `127.0.0.1:5353`, `[::1]:53` or `::1`. */
  readonly server: string;
  /**
   * Whether to believe its AD bit. Undefined: only when the server is on loopback (RFC 4035
   * section 4.9.3 and RFC 6840 section 5.7: the AD bit is meaningful only over a secure channel).
   * `false` makes every answer `insecure`.
   */
  readonly trustAd?: boolean;
  /** Deadline of one exchange (UDP, then TCP when truncated). */
  readonly timeoutMs?: number;
}

/** The server as an address and a port. */
export function parseServer(server: string): { readonly address: string; readonly port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  let address: string;
  let portText: string | undefined;
  if (bracketed !== null) {
    address = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(server) !== 0) {
    address = server;
  } else {
    const colon = server.lastIndexOf(':');
    address = colon < 0 ? server : server.slice(0, colon);
    portText = colon < 0 ? undefined : server.slice(colon + 1);
  }
  if (isIP(address) === 0) throw new DnsConfigError('server', `not an IP address: ${JSON.stringify(server)}`);
  const port = portText === undefined ? 53 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new DnsConfigError('server', `bad port in ${JSON.stringify(server)}`);
  return { address, port };
}

export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

/**
 * A stub client of a validating resolver whose AD bit it trusts (RFC 6840 section 5.7): queries
 * set RD, AD and EDNS(0) DO; an answer with AD is `secure`, without AD `insecure`. A SERVFAIL is
 * `bogus` when the resolver says so in an Extended DNS Error (RFC 8914, codes 6 to 12) or when the
 * same question asked with CD (checking disabled) gets an answer; otherwise `indeterminate`.
 * Truncated UDP answers are asked again over TCP (RFC 7766).
 */
export function createAdBitBackend(config: AdBitBackendConfig): DnsBackend {
  const { address, port } = parseServer(config.server);
  const trustAd = config.trustAd ?? isLoopback(address);
  const timeoutMs = config.timeoutMs ?? DNS_LIMITS.queryTimeoutMs;
  const family = isIP(address) === 6 ? 'udp6' : 'udp4';
  let closed = false;

  async function exchange(name: string, type: DnsRecordType, checkingDisabled: boolean): Promise<DecodedPacket | Failure> {
    const id = randomInt(0, 65_536);
    let flags = dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA;
    if (checkingDisabled) flags |= dnsPacket.CHECKING_DISABLED;
    const query: Packet = {
      type: 'query', id, flags,
      questions: [{ type, name, class: 'IN' }],
      additionals: [{
        type: 'OPT', name: '.', udpPayloadSize: DNS_LIMITS.ednsUdpPayloadBytes, extendedRcode: 0, ednsVersion: 0,
        flags: dnsPacket.DNSSEC_OK, flag_do: true, options: [],
      }],
    };
    const bytes = dnsPacket.encode(query);
    const deadline = Date.now() + timeoutMs;
    const udp = await udpExchange(bytes, address, port, family, timeoutMs, (p) => matches(p, id, name, type));
    if ('failure' in udp) return udp;
    if (udp.flag_tc !== true) return udp;
    return tcpExchange(bytes, address, port, Math.max(1, deadline - Date.now()), (p) => matches(p, id, name, type));
  }

  return {
    name: 'ad-bit',
    async lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
      if (closed) throw new DnsError('DNS_ERR_CLOSED', 'resolver closed');
      const base = { name, type, cnames: [] };
      const response = await exchange(name, type, false);
      if ('failure' in response) return { ...base, kind: 'failure', state: 'indeterminate', ...response };
      const rcode = response.rcode ?? 'NOERROR';
      if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') {
        const secure = trustAd && response.flag_ad === true;
        const answer = answerFromMessage(response, name, type, secure ? 'secure' : 'insecure');
        return trustAd ? answer : { ...answer, why: `AD bit of ${config.server} not trusted (not loopback and trustAd not set)` };
      }
      if (rcode !== 'SERVFAIL') {
        return { ...base, kind: 'failure', state: 'indeterminate', failure: rcode === 'REFUSED' ? 'refused' : 'rcode', why: `${rcode} from ${config.server}` };
      }
      if (!trustAd) return { ...base, kind: 'failure', state: 'indeterminate', failure: 'servfail', why: `SERVFAIL from ${config.server}` };
      const ede = extendedErrors(response);
      const dnssecError = ede.find((e) => e.infoCode >= 6 && e.infoCode <= 12);
      if (dnssecError !== undefined) {
        return { ...base, kind: 'failure', state: 'bogus', failure: 'bogus', why: `${config.server}: ${describeEde(dnssecError)}` };
      }
      // Without an Extended DNS Error, ask again with checking disabled: an answer then means the
      // resolver had the data and its validation failed.
      const unchecked = await exchange(name, type, true);
      if (!('failure' in unchecked) && (unchecked.rcode === 'NOERROR' || unchecked.rcode === 'NXDOMAIN')) {
        return {
          ...base, kind: 'failure', state: 'bogus', failure: 'bogus',
          why: `${config.server} answered SERVFAIL, and answered with checking disabled: DNSSEC validation failed`,
        };
      }
      const extra = ede.length > 0 ? ` (${ede.map(describeEde).join('; ')})` : '';
      return { ...base, kind: 'failure', state: 'indeterminate', failure: 'servfail', why: `SERVFAIL from ${config.server}${extra}` };
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

type Failure = { readonly failure: 'timeout' | 'network' | 'malformed'; readonly why: string };

function matches(packet: DecodedPacket, id: number, name: string, type: DnsRecordType): boolean {
  const question = packet.questions?.[0];
  return packet.type === 'response' && packet.id === id && question !== undefined &&
    normalizeName(question.name) === normalizeName(name) && question.type === type;
}

function udpExchange(
  bytes: Buffer, address: string, port: number, family: 'udp4' | 'udp6', timeoutMs: number,
  accept: (p: DecodedPacket) => boolean,
): Promise<DecodedPacket | Failure> {
  return new Promise((resolve) => {
    // A fresh socket per question: a random source port (RFC 5452 section 9.2).
    const socket = createSocket(family);
    const timer = setTimeout(() => finish({ failure: 'timeout', why: `no UDP answer from ${address}:${port} within ${timeoutMs} ms` }), timeoutMs);
    let done = false;
    function finish(result: DecodedPacket | Failure): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(result);
    }
    socket.on('error', (err) => finish({ failure: 'network', why: `UDP to ${address}:${port}: ${err.message}` }));
    socket.on('message', (message) => {
      const packet = decodeMessage(message);
      // Datagrams that do not answer this question are ignored (RFC 5452 section 9.1).
      if (packet !== undefined && accept(packet)) finish(packet);
    });
    socket.connect(port, address, () => socket.send(bytes));
  });
}

function tcpExchange(
  bytes: Buffer, address: string, port: number, timeoutMs: number, accept: (p: DecodedPacket) => boolean,
): Promise<DecodedPacket | Failure> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    let done = false;
    const timer = setTimeout(() => finish({ failure: 'timeout', why: `no TCP answer from ${address}:${port} within ${timeoutMs} ms` }), timeoutMs);
    function finish(result: DecodedPacket | Failure): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('error', (err) => finish({ failure: 'network', why: `TCP to ${address}:${port}: ${err.message}` }));
    socket.on('close', () => finish({ failure: 'network', why: `TCP to ${address}:${port}: closed before an answer` }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > DNS_LIMITS.maxTcpMessageBytes + 2) finish({ failure: 'malformed', why: 'TCP answer too long' });
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const packet = decodeMessage(received.subarray(2, 2 + length));
      finish(packet !== undefined && accept(packet) ? packet : { failure: 'malformed', why: `unreadable TCP answer from ${address}:${port}` });
    });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(bytes.length);
    socket.connect(port, address, () => socket.write(Buffer.concat([prefix, bytes])));
  });
}

/** An Extended DNS Error option (RFC 8914 section 2): option code 15, info-code, UTF-8 text. */
interface ExtendedError {
  readonly infoCode: number;
  readonly text: string;
}

function extendedErrors(packet: Packet): ExtendedError[] {
  const errors: ExtendedError[] = [];
  for (const rr of packet.additionals ?? []) {
    if (rr.type !== 'OPT') continue;
    for (const option of rr.options as readonly { code: number; data?: Buffer }[]) {
      if (option.code !== 15 || option.data === undefined || option.data.length < 2) continue;
      errors.push({ infoCode: option.data.readUInt16BE(0), text: option.data.subarray(2).toString('utf8') });
    }
  }
  return errors;
}

const EDE_NAMES: Readonly<Record<number, string>> = {
  0: 'Other', 1: 'Unsupported DNSKEY Algorithm', 2: 'Unsupported DS Digest Type', 3: 'Stale Answer', 5: 'DNSSEC Indeterminate',
  6: 'DNSSEC Bogus', 7: 'Signature Expired', 8: 'Signature Not Yet Valid', 9: 'DNSKEY Missing', 10: 'RRSIGs Missing',
  11: 'No Zone Key Bit Set', 12: 'NSEC Missing', 22: 'No Reachable Authority', 23: 'Network Error',
};

function describeEde(e: ExtendedError): string {
  const name = EDE_NAMES[e.infoCode] ?? `EDE(${e.infoCode})`;
  return e.text === '' ? `EDE ${e.infoCode} ${name}` : `EDE ${e.infoCode} ${name}: ${e.text}`;
}
