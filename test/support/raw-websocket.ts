/**
 * A WebSocket client written by hand on a plain or TLS socket, for tests of what a hostile peer
 * does that the `ws` client never would: stop mid-frame, trickle a frame byte by byte, send
 * fragments or pings without end, hold a connection before its upgrade.
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';

/** First bytes of frames (RFC 6455 section 5.2): FIN bit and opcode. */
export const WS_TEXT = 0x81;
export const WS_TEXT_FIRST_FRAGMENT = 0x01;
export const WS_CONTINUATION = 0x00;
export const WS_CONTINUATION_LAST = 0x80;
export const WS_PING = 0x89;

/** The opening handshake request asking for the `sip` subprotocol (RFC 7118 section 4.1). */
export function upgradeRequest(host: string, path = '/'): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n`
  );
}

/** Sends the upgrade request and resolves with the status code of the answer's status line. */
export async function upgrade(socket: net.Socket, host: string, path = '/'): Promise<number> {
  socket.write(upgradeRequest(host, path));
  let head = '';
  return new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0));
    };
    const onClose = (): void => reject(new Error(`closed before the upgrade answer: ${JSON.stringify(head)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** The header of a masked client frame (2 to 14 bytes) for a payload of `length` bytes. */
export function frameHeader(first: number, length: number, mask: Buffer = Buffer.from([0, 0, 0, 0])): Buffer {
  const ext = length < 126 ? Buffer.alloc(0) : length < 65_536 ? Buffer.from([length >> 8, length & 0xff]) : Buffer.from([0, 0, 0, 0, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  const len7 = length < 126 ? length : length < 65_536 ? 126 : 127;
  return Buffer.concat([Buffer.from([first, 0x80 | len7]), ext, mask]);
}

/** A whole masked client frame carrying `payload`. */
export function frame(first: number, payload: Buffer | string): Buffer {
  const bytes = Buffer.from(payload);
  const mask = randomBytes(4);
  const masked = Buffer.from(bytes.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([frameHeader(first, bytes.length, mask), masked]);
}
