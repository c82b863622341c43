import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from '../sip/parse-message.js';
import { serializeMessage } from '../sip/serialize-message.js';
import type { SipResponse } from '../sip/message.js';
import { buildCancel } from './ack-request.js';
import { request } from './fixtures.test.support.js';
import { buildResponse, buildTimeoutResponse, buildTransportFailureResponse, warnAgentOf, warningDetail } from './local-response.js';

test('buildResponse copies Via (all, in order), From, To, Call-ID, CSeq and adds the To tag (8.2.6.2)', () => {
  const req = request({ extraVia: ['SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKlower'] });
  const r = buildResponse(req, 486, 'Busy Here', { toTag: 't1' });
  assert.deepEqual(r.headerValues('via'), req.headerValues('via'));
  assert.equal(r.header('from'), req.header('from'));
  assert.equal(r.toTag(), 't1');
  assert.equal(r.callId(), req.callId());
  assert.deepEqual(r.cseq(), req.cseq());
  // A To that has a tag keeps it; 100 Trying gets none (8.2.6.1).
  assert.equal(buildResponse(request({ toTag: 'dlg' }), 200, 'OK', { toTag: 't1' }).toTag(), 'dlg');
  assert.equal(buildResponse(req, 100, 'Trying', { toTag: 't1' }).toTag(), undefined);
  // It round-trips through the serializer and parser.
  const back = parseMessage(serializeMessage(r)) as SipResponse;
  assert.equal(back.status, 486);
});

test('the transport-failure 503 names the reason in Warning 399 and Reason', () => {
  const req = request({ method: 'OPTIONS' });
  const r = buildTransportFailureResponse(req, { reason: 'tls-handshake-failed', detail: 'name-mismatch for "example.com"\r\n', error: undefined }, 'proxy.example.org:5061');
  assert.equal(r.status, 503);
  assert.equal(r.reason, 'Service Unavailable');
  assert.deepEqual(r.warnings(), [{ code: 399, agent: 'proxy.example.org:5061', text: 'tls-handshake-failed: name-mismatch for "example.com" ' }]);
  const [reason] = r.reasons();
  assert.equal(reason?.protocol, 'SIP');
  assert.equal(reason?.cause, 503);
  assert.equal(reason?.text, 'tls-handshake-failed');
  assert.equal((parseMessage(serializeMessage(r)) as SipResponse).warnings()[0]?.code, 399);
});

test('a failure detail in a Warning is bounded and never carries a library\'s own text', () => {
  const openssl = 'write EPROTO 4027F1E9:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1590:';
  assert.equal(warningDetail(openssl), 'the connection failed (details in the log)');
  assert.equal(warningDetail('x'.repeat(5000)).length, 200);
  const r = buildTransportFailureResponse(request({ method: 'OPTIONS' }), { reason: 'tls-handshake-failed', detail: openssl, error: undefined }, 'sipsec');
  assert.doesNotMatch(r.header('warning') ?? '', /SSL routines|\.c:/);
});

test('the timeout 408 names the timer', () => {
  const r = buildTimeoutResponse(request(), 'timerB');
  assert.equal(r.status, 408);
  assert.equal(r.reasons()[0]?.text, 'timerB');
});

test('warn-agent is our sent-by', () => {
  assert.equal(warnAgentOf(request({ via: 'SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bKa' }).topVia()), '[2001:db8::1]:5062');
  assert.equal(warnAgentOf(request({ via: 'SIP/2.0/TLS proxy.example.org;branch=z9hG4bKa' }).topVia()), 'proxy.example.org');
  assert.equal(warnAgentOf(undefined), 'sipsec');
});

test('buildCancel follows 9.1: same URI, Call-ID, To, From, CSeq number, one Via, Route', () => {
  const inv = request({ routes: ['<sip:p1.example.com;lr>'], extraVia: ['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower'] });
  const c = buildCancel(inv);
  assert.equal(c.method, 'CANCEL');
  assert.equal(c.uri.toString(), inv.uri.toString());
  assert.deepEqual(c.headerValues('via'), [inv.headerValues('via')[0]]);
  assert.deepEqual(c.headerValues('route'), ['<sip:p1.example.com;lr>']);
  assert.equal(c.header('to'), inv.header('to'));
  assert.equal(c.header('from'), inv.header('from'));
  assert.equal(c.callId(), inv.callId());
  assert.deepEqual(c.cseq(), { seq: 314159, method: 'CANCEL' });
});
