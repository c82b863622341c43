/**
 * Messages, recorders and socket probes for the transport tests (not a test file itself: test.sh
 * runs *.test.ts; the package excludes *.test.*).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { ParseResult } from '../sip/parse-message.js';
import type { SipMessage } from '../sip/message.js';
import type { TransportContext } from './transport-context.js';
import type { TransportLayerOptions } from './transport-layer.js';
import type { TransportLogEvent } from './transport-log.js';

export function options(n: number, body = ''): Buffer {
  return Buffer.from(
    `OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK${n}\r\nFrom: <sip:a@example.com>;tag=${n}\r\n` +
      `To: <sip:bob@example.com>\r\nCall-ID: call-${n}\r\nCSeq: ${n} OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export interface Received {
  messages: Array<{ message: SipMessage; context: TransportContext }>;
  invalid: Array<{ result: Extract<ParseResult, { ok: false }>; context: TransportContext }>;
  logs: TransportLogEvent[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
}

export function receiver(): Received & Pick<TransportLayerOptions, 'onMessage' | 'onInvalid' | 'log'> {
  const waiters: Array<() => void> = [];
  const r: Received & Pick<TransportLayerOptions, 'onMessage' | 'onInvalid' | 'log'> = {
    messages: [],
    invalid: [],
    logs: [],
    onMessage: (message, context) => {
      r.messages.push({ message, context });
      waiters.splice(0).forEach((w) => w());
    },
    onInvalid: (result, context) => {
      r.invalid.push({ result, context });
      waiters.splice(0).forEach((w) => w());
    },
    log: (e) => {
      r.logs.push(e);
      waiters.splice(0).forEach((w) => w());
    },
    waitFor: async (count, timeoutMs = 10_000) => {
      // Bounded like until(): a message that never comes fails the test instead of hanging it.
      const deadline = Date.now() + timeoutMs;
      while (r.messages.length + r.invalid.length < count) {
        if (Date.now() > deadline) throw new Error(`${count} message(s) not received within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50).unref();
        });
      }
    },
  };
  return r;
}

export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  // Bounded, so that a condition that never comes fails the test instead of hanging the suite.
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The error code of a TCP connect to the port: ECONNREFUSED once nothing listens there. */
export async function connectError(port: number, address = '127.0.0.1'): Promise<string> {
  const socket = net.connect(port, address);
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
  } finally {
    socket.destroy();
  }
}

/** Whether a UDP port can be bound again, i.e. the layer's socket on it is closed. */
export async function udpPortFree(port: number, address = '127.0.0.1'): Promise<boolean> {
  const probe = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.bind(port, address, () => resolve(true));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}
