import type { SipMessage } from '../sip/message.js';

/**
 * About the bytes a message keeps in memory while a transaction holds it: its start line, every
 * header field (name, value, and the received text when that differs) and its body. Linear in the
 * message, no serialization; what the transaction byte budget (TX_LIMITS.maxTransactionBytes) counts.
 */
export function messageBytes(message: SipMessage): number {
  let n = message.version.length + 4 + message.body.byteLength;
  n += message.kind === 'request' ? message.method.length + message.uri.toString().length : 4 + message.reason.length;
  for (const field of message.headers) n += field.name.length + field.value.length + (field.raw?.length ?? 0) + 4;
  return n;
}
