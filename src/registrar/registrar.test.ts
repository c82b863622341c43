import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUri } from '../sip/uri.js';
import type { Binding } from './binding.js';
import { registerRequest, type RegisterSpec } from './fixtures.test.support.js';
import { aorOf, applyRegister, prepareRegister, type RegisterDecision, type RegisterPlan, type RegisterSource } from './registrar.js';

const NOW = 1_700_000_000_000;
const UDP: RegisterSource = { transport: 'udp', local: { address: '127.0.0.2', port: 5060 }, remote: { address: '192.0.2.4', port: 5060 }, connectionId: undefined };
const TLS: RegisterSource = { transport: 'tls', local: { address: '127.0.0.2', port: 5061 }, remote: { address: '192.0.2.4', port: 40_001 }, connectionId: 'c42' };
const OPTIONS = { isLocalDomain: (d: string) => d === 'b.test' || d === 'a.test' };

/** `user` null: nobody authenticated. */
function prepare(spec: RegisterSpec, user: string | null = 'bob@b.test', source = UDP) {
  return prepareRegister(registerRequest(spec), user ?? undefined, source, OPTIONS);
}

function plan(spec: RegisterSpec, user = 'bob@b.test', source = UDP): RegisterPlan {
  const result = prepare(spec, user, source);
  if (result.kind !== 'proceed') throw new Error(`expected proceed, got ${JSON.stringify(result)}`);
  return result.plan;
}

function statusOf(spec: RegisterSpec, user: string | null = 'bob@b.test'): number | string {
  const result = prepare(spec, user);
  return result.kind === 'respond' ? result.response.status : result.kind;
}

/** Runs a REGISTER against bindings; returns the decision and the bindings after it. */
function register(spec: RegisterSpec, bindings: readonly Binding[], nowMs = NOW, source = UDP): { decision: RegisterDecision; after: readonly Binding[] } {
  const decision = applyRegister(plan(spec, 'bob@b.test', source), bindings, nowMs);
  return { decision, after: decision.next ?? bindings };
}

function header(decision: RegisterDecision, name: string): string[] {
  return decision.response.headers.filter((h) => h.name === name).map((h) => h.value);
}

test('aorOf: the canonical form drops parameters, decodes escapes, lowers the host (section 10.3 step 5)', () => {
  assert.equal(aorOf(parseUri('sip:b%6Fb@B.Test.;user=phone;transport=tcp')), 'bob@b.test');
  assert.equal(aorOf(parseUri('sips:bob@b.test:5061')), 'bob@b.test');
  assert.equal(aorOf(parseUri('sip:b.test')), undefined);
  assert.equal(aorOf(parseUri('tel:+1555')), undefined);
});

test('step 1: a Request-URI of another domain is not ours to register (the proxy forwards it)', () => {
  assert.deepEqual(prepare({ uri: 'sip:c.test', to: '<sip:bob@c.test>' }), { kind: 'not-local', domain: 'c.test' });
  assert.equal(statusOf({ uri: 'tel:+1555' }), 416);
  assert.equal(statusOf({ method: 'OPTIONS' }), 405);
});

test('step 2: Require with an unknown option tag is 420 with Unsupported; path and outbound are supported', () => {
  const result = prepare({ headers: ['Require: path, foo, bar'] });
  assert.equal(result.kind === 'respond' && result.response.status, 420);
  assert.deepEqual(result.kind === 'respond' && result.response.headers, [{ name: 'Unsupported', value: 'foo, bar' }]);
  assert.equal(statusOf({ headers: ['Require: path, outbound'] }), 'proceed');
});

test('steps 3 and 4: the authenticated user must own the To AOR, else 403', () => {
  assert.equal(statusOf({}, null), 403);
  assert.equal(statusOf({}, 'alice@b.test'), 403);
  assert.equal(statusOf({ to: '<sip:alice@b.test>' }), 403);
  // The user part is case-sensitive (section 19.1.4), the domain is not.
  assert.equal(statusOf({ to: '<sip:BOB@b.test>' }), 403);
  assert.equal(statusOf({ to: '<sip:bob@B.test>' }, 'bob@b.TEST'), 'proceed');
  assert.equal(statusOf({ to: '"Bob" <sip:bob@B.TEST;user=phone>' }), 'proceed');
});

test('step 5: an AOR not of the Request-URI domain is 404', () => {
  assert.equal(statusOf({ uri: 'sip:a.test', to: '<sip:bob@b.test>' }), 404);
});

test('malformed headers read lazily give 400, not a throw; CSeq method must be REGISTER', () => {
  const request = registerRequest({});
  request.addHeader('Contact', '<sip:bob@192.0.2.4>;q=');
  assert.equal(prepareRegister(request, 'bob@b.test', UDP, OPTIONS).kind === 'respond', true);
  const expires = registerRequest({ headers: ['Contact: <sip:bob@192.0.2.4>'] });
  expires.addHeader('Expires', 'soon');
  const r = prepareRegister(expires, 'bob@b.test', UDP, OPTIONS);
  assert.equal(r.kind === 'respond' && r.response.status, 400);
});

test('a REGISTER without Contact is a query: 200 lists the bindings, nothing changes', () => {
  const { after: one } = register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 600'] }, []);
  const { decision } = register({ cseq: 2 }, one, NOW + 100_000);
  assert.equal(decision.response.status, 200);
  assert.equal(decision.next, undefined);
  assert.deepEqual(header(decision, 'Contact'), ['<sip:bob@192.0.2.4>;expires=500']);
  assert.deepEqual(header(decision, 'Date'), [new Date(NOW + 100_000).toUTCString()]);
});

test('step 6: Contact: * only with Expires: 0, else 400', () => {
  assert.equal(statusOf({ headers: ['Contact: *'] }), 400);
  assert.equal(statusOf({ headers: ['Contact: *', 'Expires: 60'] }), 400);
  assert.equal(statusOf({ headers: ['Contact: *', 'Expires: 0'] }), 'proceed');
});

test('step 6: Contact: * removes every binding of other Call-IDs and of a lower CSeq of this one; an equal or lower CSeq fails with 500', () => {
  let { after } = register({ headers: ['Contact: <sip:bob@192.0.2.4>'], callId: 'one', cseq: 5 }, []);
  after = register({ headers: ['Contact: <sip:bob@192.0.2.5>'], callId: 'two', cseq: 1 }, after).after;
  assert.equal(after.length, 2);
  const stale = register({ headers: ['Contact: *', 'Expires: 0'], callId: 'one', cseq: 5 }, after);
  assert.equal(stale.decision.response.status, 500);
  assert.equal(stale.decision.next, undefined);
  const removed = register({ headers: ['Contact: *', 'Expires: 0'], callId: 'one', cseq: 6 }, after);
  assert.equal(removed.decision.response.status, 200);
  assert.deepEqual(removed.decision.next, []);
  assert.deepEqual(removed.decision.changes.map((c) => c.action), ['removed', 'removed']);
  assert.deepEqual(header(removed.decision, 'Contact'), []);
});

test('step 7: expiry from the Contact parameter, else Expires, else the default; longer than the maximum is shortened', () => {
  const { decision } = register({ headers: ['Contact: <sip:bob@192.0.2.4>;expires=120, <sip:bob@192.0.2.5>', 'Expires: 300'] }, []);
  assert.deepEqual(header(decision, 'Contact'), ['<sip:bob@192.0.2.4>;expires=120', '<sip:bob@192.0.2.5>;expires=300']);
  assert.deepEqual(header(register({ headers: ['Contact: <sip:bob@192.0.2.4>'] }, []).decision, 'Contact'), ['<sip:bob@192.0.2.4>;expires=3600']);
  assert.deepEqual(header(register({ headers: ['Contact: <sip:bob@192.0.2.4>;expires=9999999'] }, []).decision, 'Contact'), ['<sip:bob@192.0.2.4>;expires=86400']);
});

test('step 7: 0 < expiry < Min-Expires is 423 with Min-Expires; 0 is not too brief', () => {
  const result = prepare({ headers: ['Contact: <sip:bob@192.0.2.4>;expires=30'] });
  assert.equal(result.kind === 'respond' && result.response.status, 423);
  assert.deepEqual(result.kind === 'respond' && result.response.headers, [{ name: 'Min-Expires', value: '60' }]);
  assert.equal(statusOf({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 59'] }), 423);
  assert.equal(statusOf({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 60'] }), 'proceed');
  assert.equal(statusOf({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 0'] }), 'proceed');
  const custom = prepareRegister(registerRequest({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 100'] }), 'bob@b.test', UDP, { ...OPTIONS, limits: { minExpiresSeconds: 120 } });
  assert.equal(custom.kind === 'respond' && custom.response.headers[0]?.value, '120');
});

test('step 7: q-values are kept and listed; a bad qvalue is 400', () => {
  const { decision } = register({ headers: ['Contact: <sip:bob@192.0.2.4>;q=0.7, <sip:bob@192.0.2.5>;q=1'] }, []);
  assert.deepEqual(header(decision, 'Contact'), ['<sip:bob@192.0.2.4>;expires=3600;q=0.7', '<sip:bob@192.0.2.5>;expires=3600;q=1']);
  assert.equal(decision.next?.[0]?.q, 0.7);
  for (const q of ['1.5', '0.1234', 'x', '2']) assert.equal(statusOf({ headers: [`Contact: <sip:bob@192.0.2.4>;q=${q}`] }), 400, q);
});

test('step 7: a binding is matched by URI comparison; same Call-ID needs a higher CSeq (500 otherwise); another Call-ID updates', () => {
  const first = register({ headers: ['Contact: <sip:bob@192.0.2.4:5060;transport=udp>', 'Expires: 600'], callId: 'c1', cseq: 10 }, []);
  assert.deepEqual(first.decision.changes.map((c) => c.action), ['added']);
  // Equivalent URI spelling: the same binding.
  const refresh = register({ headers: ['Contact: <sip:bob@192.0.2.4:5060;TRANSPORT=UDP>', 'Expires: 900'], callId: 'c1', cseq: 11 }, first.after, NOW + 1000);
  assert.deepEqual(refresh.decision.changes.map((c) => c.action), ['refreshed']);
  assert.equal(refresh.after.length, 1);
  assert.equal(refresh.after[0]?.expiresAtMs, NOW + 1000 + 900_000);
  assert.equal(refresh.after[0]?.cseq, 11);
  for (const cseq of [11, 3]) {
    const late = register({ headers: ['Contact: <sip:bob@192.0.2.4:5060;transport=udp>'], callId: 'c1', cseq }, refresh.after);
    assert.equal(late.decision.response.status, 500, `CSeq ${cseq}`);
    assert.equal(late.decision.next, undefined);
  }
  const otherCall = register({ headers: ['Contact: <sip:bob@192.0.2.4:5060;transport=udp>'], callId: 'c2', cseq: 1 }, refresh.after);
  assert.equal(otherCall.decision.response.status, 200);
  assert.equal(otherCall.after[0]?.callId, 'c2');
});

test('step 7: expires=0 removes a binding; removing one that does not exist is fine', () => {
  const first = register({ headers: ['Contact: <sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>'], cseq: 1 }, []);
  const removed = register({ headers: ['Contact: <sip:bob@192.0.2.4>;expires=0, <sip:bob@192.0.2.9>;expires=0'], cseq: 2 }, first.after);
  assert.deepEqual(removed.decision.changes.map((c) => [c.action, c.binding.contact]), [['removed', 'sip:bob@192.0.2.4']]);
  assert.deepEqual(header(removed.decision, 'Contact'), ['<sip:bob@192.0.2.5>;expires=3600']);
  // Another Call-ID removes too (section 10.3 step 7: "removed if the expiration time is zero").
  const other = register({ headers: ['Contact: <sip:bob@192.0.2.5>', 'Expires: 0'], callId: 'x', cseq: 1 }, removed.after);
  assert.deepEqual(other.after, []);
});

test('step 7: the changes are all or nothing: a failing contact leaves every binding as it was', () => {
  const first = register({ headers: ['Contact: <sip:bob@192.0.2.4>'], callId: 'c1', cseq: 5 }, []);
  const second = register({ headers: ['Contact: <sip:bob@192.0.2.5>'], callId: 'c2', cseq: 1 }, first.after);
  // New contact .6 would be added, but .4's CSeq is not above 5 in Call-ID c1.
  const mixed = register({ headers: ['Contact: <sip:bob@192.0.2.6>, <sip:bob@192.0.2.4>'], callId: 'c1', cseq: 5 }, second.after);
  assert.equal(mixed.decision.response.status, 500);
  assert.equal(mixed.decision.next, undefined);
});

test('expired bindings are not listed nor matched', () => {
  const first = register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 60'], callId: 'c1', cseq: 5 }, []);
  // After expiry, the same Call-ID and CSeq is a new binding, not an out-of-order one.
  const later = register({ headers: ['Contact: <sip:bob@192.0.2.4>', 'Expires: 60'], callId: 'c1', cseq: 5 }, first.after, NOW + 61_000);
  assert.equal(later.decision.response.status, 200);
  assert.deepEqual(later.decision.changes.map((c) => c.action), ['added']);
  const query = register({ callId: 'q', cseq: 1 }, first.after, NOW + 61_000);
  assert.deepEqual(header(query.decision, 'Contact'), []);
});

test('the per-AOR binding limit: a REGISTER that would exceed it is refused, refreshes still pass', () => {
  const options = { limits: { maxBindingsPerAor: 2 } };
  const run = (spec: RegisterSpec, current: readonly Binding[]) => applyRegister(plan(spec), current, NOW, options);
  const two = run({ headers: ['Contact: <sip:bob@192.0.2.4>, <sip:bob@192.0.2.5>'], cseq: 1 }, []);
  assert.equal(two.response.status, 200);
  const three = run({ headers: ['Contact: <sip:bob@192.0.2.6>'], cseq: 2 }, two.next ?? []);
  assert.equal(three.response.status, 403);
  assert.equal(three.next, undefined);
  assert.equal(run({ headers: ['Contact: <sip:bob@192.0.2.5>'], cseq: 3 }, two.next ?? []).response.status, 200);
  // Replacing one binding by another in one request stays within the limit.
  assert.equal(run({ headers: ['Contact: <sip:bob@192.0.2.5>;expires=0, <sip:bob@192.0.2.6>'], cseq: 4 }, two.next ?? []).response.status, 200);
});

test('a binding records where it came from: transport, addresses, flow, Path, User-Agent, Call-ID, CSeq', () => {
  const { after } = register(
    { headers: ['Contact: <sip:bob@10.0.0.4:5062;transport=tls>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"', 'Path: <sip:edge.b.test;lr>', 'User-Agent: phone/1.0'], callId: 'k', cseq: 7 },
    [],
    NOW,
    TLS,
  );
  const b = after[0];
  assert.deepEqual(b, {
    aor: 'bob@b.test',
    contact: 'sip:bob@10.0.0.4:5062;transport=tls',
    params: [{ name: '+sip.instance', value: '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"' }],
    q: undefined,
    expiresAtMs: NOW + 3_600_000,
    callId: 'k',
    cseq: 7,
    receivedFrom: { transport: 'tls', address: '192.0.2.4', port: 40_001, localAddress: '127.0.0.2', localPort: 5061 },
    connectionId: 'c42',
    instanceId: '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>',
    regId: undefined,
    path: ['<sip:edge.b.test;lr>'],
    userAgent: 'phone/1.0',
    updatedAtMs: NOW,
  });
  // UDP has no flow to record.
  assert.equal(register({ headers: ['Contact: <sip:bob@10.0.0.4>'] }, []).after[0]?.connectionId, undefined);
});

const INSTANCE = '+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"';

test('RFC 5626: instance-id and reg-id with Supported: outbound key the binding, whatever the Contact URI; Require: outbound in the 200', () => {
  const first = register({ headers: [`Contact: <sip:bob@10.0.0.4:5061;transport=tls;ob>;${INSTANCE};reg-id=1`, 'Supported: outbound, path'], callId: 'o1', cseq: 1 }, [], NOW, TLS);
  assert.equal(first.after[0]?.regId, 1);
  assert.deepEqual(header(first.decision, 'Require'), ['outbound']);
  // A new flow (the UA's address changed): the same binding, updated to the new contact and connection.
  const moved = register({ headers: [`Contact: <sip:bob@10.0.0.9:6000;transport=tls;ob>;${INSTANCE};reg-id=1`, 'Supported: outbound'], callId: 'o2', cseq: 1 }, first.after, NOW, { ...TLS, connectionId: 'c43' });
  assert.equal(moved.after.length, 1);
  assert.equal(moved.after[0]?.connectionId, 'c43');
  assert.equal(moved.after[0]?.contact, 'sip:bob@10.0.0.9:6000;transport=tls;ob');
  // Another reg-id of the same instance is a second flow.
  const second = register({ headers: [`Contact: <sip:bob@10.0.0.9:6000;transport=tls;ob>;${INSTANCE};reg-id=2`, 'Supported: outbound'], callId: 'o3', cseq: 1 }, moved.after, NOW, TLS);
  assert.equal(second.after.length, 2);
});

test('RFC 5626: reg-id without instance-id or without Supported: outbound is ignored; no Require: outbound', () => {
  const noInstance = register({ headers: ['Contact: <sip:bob@10.0.0.4>;reg-id=1', 'Supported: outbound'] }, []);
  assert.equal(noInstance.after[0]?.regId, undefined);
  assert.deepEqual(header(noInstance.decision, 'Require'), []);
  const noOption = register({ headers: [`Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=1`] }, []);
  assert.equal(noOption.after[0]?.regId, undefined);
  assert.equal(noOption.after[0]?.instanceId, '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>');
});

test('RFC 5626: more than one non-zero contact with a reg-id is 400; a bad reg-id is 400', () => {
  assert.equal(statusOf({ headers: [`Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=1, <sip:bob@10.0.0.5>`, 'Supported: outbound'] }), 400);
  assert.equal(statusOf({ headers: [`Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=1, <sip:bob@10.0.0.5>;expires=0`, 'Supported: outbound'] }), 'proceed');
  assert.equal(statusOf({ headers: [`Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=0`, 'Supported: outbound'] }), 400);
});

test('RFC 5626: behind a proxy, reg-id with outbound needs an ob Path (439 otherwise)', () => {
  const via = 'Via: SIP/2.0/UDP edge.b.test;branch=z9hG4bK-edge';
  const behind = registerRequest({ headers: [via, `Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=1`, 'Supported: outbound'] });
  const refused = prepareRegister(behind, 'bob@b.test', UDP, OPTIONS);
  assert.equal(refused.kind === 'respond' && refused.response.status, 439);
  const withOb = prepareRegister(registerRequest({ headers: [via, 'Path: <sip:edge.b.test;lr;ob>', `Contact: <sip:bob@10.0.0.4>;${INSTANCE};reg-id=1`, 'Supported: outbound'] }), 'bob@b.test', UDP, OPTIONS);
  assert.equal(withOb.kind === 'proceed' && withOb.plan.outbound, true);
});

test('RFC 3327: the 200 echoes Path when the UA supports path', () => {
  const echoed = register({ headers: ['Path: <sip:p1.b.test;lr>, <sip:p2.b.test;lr>', 'Contact: <sip:bob@10.0.0.4>', 'Supported: path'] }, []);
  assert.deepEqual(header(echoed.decision, 'Path'), ['<sip:p1.b.test;lr>', '<sip:p2.b.test;lr>']);
  assert.deepEqual(echoed.after[0]?.path, ['<sip:p1.b.test;lr>', '<sip:p2.b.test;lr>']);
  assert.deepEqual(header(register({ headers: ['Path: <sip:p1.b.test;lr>', 'Contact: <sip:bob@10.0.0.4>'] }, []).decision, 'Path'), []);
});
