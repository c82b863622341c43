import { Buffer } from 'node:buffer';
import { canonicalHeaderName } from './header-names.js';
import type { SipMessage } from './message.js';

/**
 * Writes a message into one buffer. Fields that came off the wire are written exactly as
 * received (folding and spelling kept); fields added by code as `Name: value`.
 */
export function serializeMessage(message: SipMessage): Buffer {
  let head =
    message.kind === 'request'
      ? `${message.method} ${message.uri.toString()} ${message.version}\r\n`
      : `${message.version} ${message.status} ${message.reason}\r\n`;
  for (const h of message.headers) {
    head += h.raw ?? `${h.name.length > 0 ? h.name : canonicalHeaderName(h.key)}: ${h.value}`;
    head += '\r\n';
  }
  head += '\r\n';
  const headLength = Buffer.byteLength(head, message.headerEncoding);
  const out = Buffer.allocUnsafe(headLength + message.body.length);
  out.write(head, 0, message.headerEncoding);
  out.set(message.body, headLength);
  return out;
}
