import { Buffer } from 'node:buffer';
import { canonicalHeaderName } from './header-names.js';
import type { SipMessage } from './message.js';

// Latin-1 encoding keeps only the low byte of each code unit: U+010D U+010A would be written as
// CR LF, a header injection past the checks of addHeader. Text written by code that Latin-1
// cannot hold goes out as UTF-8, whose bytes for these characters are all 0x80 or above; received
// fields hold only Latin-1 characters and keep their bytes.
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
const BEYOND_LATIN1_RUNS = /[\u0100-\uffff]+/g;
const latin1OfUtf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

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
  if (message.headerEncoding === 'latin1' && BEYOND_LATIN1.test(head)) head = head.replace(BEYOND_LATIN1_RUNS, latin1OfUtf8);
  const headLength = Buffer.byteLength(head, message.headerEncoding);
  const out = Buffer.allocUnsafe(headLength + message.body.length);
  out.write(head, 0, message.headerEncoding);
  out.set(message.body, headLength);
  return out;
}
