import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from './parse-message.js';
import { SipRequest, type SipMessage } from './message.js';
import { branchOf } from './via.js';

// The parser keeps where it found each value and the tracked headers in scratch shared between
// parses. A parse started inside another (a body reader that parses a message/sipfrag from an
// accessor, as a sipfrag or e2e-sec reader would) must not overwrite what the outer message is
// still being checked with: that once gave the outer message its Content-Length as Call-ID.

// Content-Type first, so that the full parse reads it before Call-ID and CSeq.
const OUTER = Buffer.from(
  'OPTIONS sip:a@b.example SIP/2.0\r\n' +
    'Content-Type: message/sipfrag\r\n' +
    'Via: SIP/2.0/TLS outer.example;branch=z9hG4bKouter\r\n' +
    'From: <sip:a@b.example>;tag=1\r\n' +
    'To: <sip:b@b.example>\r\n' +
    'Call-ID: outer-call\r\n' +
    'CSeq: 7 OPTIONS\r\n' +
    'Content-Length: 0\r\n\r\n',
);

// Its fields in another order: its Call-ID sits where the outer message has its Content-Length.
const INNER = Buffer.from(
  'INVITE sip:c@d.example SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP inner.example:5070;branch=z9hG4bKinner\r\n' +
    'From: <sip:c@d.example>;tag=2\r\n' +
    'To: <sip:d@d.example>\r\n' +
    'CSeq: 42 INVITE\r\n' +
    'Max-Forwards: 70\r\n' +
    'Contact: <sip:c@inner.example>\r\n' +
    'Call-ID: inner-call\r\n' +
    'Content-Length: 0\r\n\r\n',
);

type Accessor = 'contentType' | 'via' | 'topVia';

/**
 * Parses OUTER with `accessor` of every message replaced, for the time of the parse, by one that
 * first parses INNER (once): a parse nested in a step of the outer one, with its scratch live.
 */
function parseNested(accessor: Accessor, depth: 'full' | 'lazy'): { outer: SipMessage; inner: SipMessage | undefined } {
  const proto = Object.getPrototypeOf(SipRequest.prototype) as Record<Accessor, (this: SipMessage) => unknown>;
  const original = proto[accessor];
  let inner: SipMessage | undefined;
  let nested = false;
  proto[accessor] = function (this: SipMessage): unknown {
    if (!nested) {
      nested = true;
      inner = parseMessage(INNER, { depth });
    }
    return original.call(this);
  };
  try {
    return { outer: parseMessage(OUTER, { depth }), inner };
  } finally {
    proto[accessor] = original;
  }
}

function assertIdentity(message: SipMessage | undefined, callId: string, seq: number, method: string, branch: string): void {
  assert.ok(message !== undefined, 'the nested parse ran');
  assert.equal(message.callId(), callId);
  assert.deepEqual(message.cseq(), { seq, method });
  const via = message.topVia();
  assert.ok(via !== undefined);
  assert.equal(branchOf(via), branch);
}

for (const [accessor, depth] of [['contentType', 'full'], ['via', 'full'], ['topVia', 'lazy']] as const) {
  test(`a parse nested in the ${depth} parse of another (from ${accessor}) leaves both messages their own Call-ID, CSeq and Via`, () => {
    const { outer, inner } = parseNested(accessor, depth);
    assertIdentity(outer, 'outer-call', 7, 'OPTIONS', 'z9hG4bKouter');
    assertIdentity(inner, 'inner-call', 42, 'INVITE', 'z9hG4bKinner');
    assert.equal(inner?.maxForwards(), 70);
  });
}
