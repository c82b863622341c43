import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SipMessage, SipResponse } from '../sip/message.js';
import { inspectMessage, type ParseResult } from '../sip/parse-message.js';
import { context } from './fixtures.test.support.js';
import { TransactionLayer } from './transaction-layer.js';
import { VirtualClock } from './virtual-clock.js';

function failed(text: string): Extract<ParseResult, { ok: false }> {
  const result = inspectMessage(Buffer.from(text.replaceAll('\n', '\r\n')));
  if (result.ok) throw new Error('the fixture must fail to parse');
  return result;
}

const HEAD = 'Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKbad\nTo: <sip:b@example.com>\nFrom: <sip:a@example.com>;tag=1\nCall-ID: bad@x\n';

test('rejectMalformed answers a malformed request statelessly with the parser\'s response, keeps no transaction, and never answers an ACK or a response', async () => {
  const sent: Array<{ message: SipMessage; port: number }> = [];
  const layer = new TransactionLayer({
    clock: new VirtualClock(),
    send: (message, destination) => {
      sent.push({ message, port: destination.port });
      return Promise.resolve();
    },
  });
  assert.equal(layer.rejectMalformed(failed(`OPTIONS sip:b@example.com SIP/2.0\n${HEAD}CSeq: 1 OPTIONS\nContent-Length: x\n\n`), context('udp')), true);
  assert.equal(layer.rejectMalformed(failed(`ACK sip:b@example.com SIP/2.0\n${HEAD}CSeq: 1 ACK\nContent-Length: x\n\n`), context('udp')), false);
  assert.equal(layer.rejectMalformed(failed(`SIP/2.0 200 OK\n${HEAD}CSeq: 1 OPTIONS\nContent-Length: x\n\n`), context('udp')), false);
  assert.equal(sent.length, 1);
  assert.equal((sent[0]?.message as SipResponse).status, 400);
  assert.equal(sent[0]?.port, 5070, 'sent where section 18.2.2 says: the sent-by port over UDP without rport');
  assert.equal(layer.size, 0);
  await layer.close();
});
