/**
 * The proxy core on loopback: real SipStack user agents (UDP and TCP on 127.0.0.100-119) call
 * each other through a ProxyCore whose location service, registrar, authorizer and outbound router
 * are small in-test implementations of contracts.ts. Assertions are on what each side received,
 * never on how long it took.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import type { LocalLookup, LocalTarget, OutboundRouter } from '../../src/proxy/contracts.js';
import { ProxyCore, type ProxyCoreOptions } from '../../src/proxy/proxy-core.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { SipRequest as Request } from '../../src/sip/message.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { TX_TIMERS, type TxTimers } from '../../src/limits.js';
import { buildResponse } from '../../src/transaction/local-response.js';
import { timerEReachesT2Ms } from '../../src/transaction/tx-timers.js';
import { VirtualClock } from '../../src/transaction/virtual-clock.js';
import type { ServerTransaction } from '../../src/transaction/transaction-layer.js';
import type { Destination, TransportProtocol } from '../../src/transport/transport-context.js';
import { buildRequest } from '../../src/ua/build-request.js';
import { transportOf } from '../../src/ua/destinations.js';
import { newBranch, newTag } from '../../src/ua/identifiers.js';
import { Responder } from '../../src/ua/responder.js';
import { SipStack } from '../../src/ua/sip-stack.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../../src/lab/certificates.js';
import { TrustStore } from '../../src/tls/trust-store.js';
import type { DestinationsResult } from '../../src/ua/destinations.js';

const PROXY_ADDRESS = '127.0.0.100';
const NAME = 'proxy.a.test';
const quiet = (): void => undefined;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** What a callee does with an INVITE. */
type Behaviour = 'answer' | 'busy' | 'decline' | 'unavailable' | 'ring' | 'silent';

/** Every request any UA received, in arrival order: `address method`. */
const arrivals: string[] = [];

/** A user agent on its own stack: answers as told, records every request and ACK it gets. */
class Ua {
  readonly received: SipRequest[] = [];
  readonly acks: SipRequest[] = [];
  /** Responses matching no client transaction: the second 2xx of a forked INVITE. */
  readonly strays: SipResponse[] = [];
  behaviour: Behaviour = 'answer';
  /** The port written in this UA's Contact: another than its own stands for a private address behind NAT. */
  contactPort: number | undefined = undefined;

  private constructor(readonly stack: SipStack, readonly address: string, readonly transport: TransportProtocol) {}

  static async start(address: string, transport: TransportProtocol, options: { sendTrying?: boolean } = {}): Promise<Ua> {
    const made: { ua?: Ua } = {};
    const stack = await SipStack.start({
      listeners: [{ transport, address, port: 0 }],
      log: quiet,
      transactions: { sendTrying: options.sendTrying ?? true },
      tu: (self) => ({
        onRequest: (tx, request) => made.ua?.answer(tx, request, self),
        onAck: (ack) => made.ua?.acks.push(ack),
        onStrayResponse: (response) => made.ua?.strays.push(response),
      }),
    });
    made.ua = new Ua(stack, address, transport);
    return made.ua;
  }

  get port(): number {
    return this.stack.listening()[0]?.port ?? 0;
  }

  contact(user: string): string {
    return `<sip:${user}@${this.address}:${this.contactPort ?? this.port};transport=${this.transport}>`;
  }

  target(user: string, q?: number): LocalTarget {
    return { uri: parseSipUri(`sip:${user}@${this.address}:${this.contactPort ?? this.port};transport=${this.transport}`), destination: { transport: this.transport, address: this.address, port: this.port }, path: [], q, instanceId: undefined };
  }

  methods(): string[] {
    return this.received.map((r) => r.method);
  }

  answer(tx: ServerTransaction, request: SipRequest, stack: SipStack): void {
    this.received.push(request);
    arrivals.push(`${this.address} ${request.method}`);
    const toTag = newTag();
    const respond = (status: number, reason: string): void => {
      const response = buildResponse(request, status, reason, { toTag });
      if (status < 300 && request.method === 'INVITE') {
        response.addHeader('contact', this.contact('bob'));
        // Section 12.1.1: a UAS copies Record-Route into every response that creates a dialog.
        for (const rr of request.fields('record-route')) response.addHeader('record-route', rr.value);
      }
      tx.respond(response);
    };
    if (request.method === 'CANCEL') {
      const invite = stack.transactions.findInviteServerTxForCancel(request);
      respond(invite === undefined ? 481 : 200, invite === undefined ? 'No Transaction' : 'OK');
      if (invite !== undefined) invite.respond(buildResponse(invite.request, 487, 'Request Terminated', { toTag }));
      return;
    }
    if (request.method !== 'INVITE') {
      respond(200, 'OK');
      return;
    }
    switch (this.behaviour) {
      case 'answer':
        respond(180, 'Ringing');
        respond(200, 'OK');
        return;
      case 'busy':
        respond(486, 'Busy Here');
        return;
      case 'decline':
        respond(603, 'Decline');
        return;
      case 'unavailable':
        respond(503, 'Service Unavailable');
        return;
      case 'ring':
        respond(180, 'Ringing');
        return;
      case 'silent':
        return;
    }
  }

  async close(): Promise<void> {
    await this.stack.close({ force: true });
  }
}

/** One request from a UA through the proxy: every response it gets, and the final. */
interface Exchange {
  readonly request: SipRequest;
  readonly responses: SipResponse[];
  readonly final: Promise<SipResponse>;
}

function send(ua: Ua, request: SipRequest, to: Destination): Exchange {
  const responses: SipResponse[] = [];
  const final = new Promise<SipResponse>((resolve) => {
    ua.stack.transactions.sendRequest(request, to, {
      onResponse: (response) => {
        responses.push(response);
        if (response.status >= 200) resolve(response);
      },
    });
  });
  return { request, responses, final };
}

function request(ua: Ua, method: string, uri: string, headers: ReadonlyArray<readonly [string, string]> = [], from = 'sip:alice@a.test'): SipRequest {
  return buildRequest({
    method, uri: parseSipUri(uri), from,
    via: { transport: ua.transport, host: ua.address, port: ua.port },
    headers: [['contact', ua.contact('alice')], ...headers],
  });
}

/** An in-dialog request built from the 2xx (section 12.2.1.1): remote target, route set reversed, To tag. */
function inDialog(ua: Ua, method: string, invite: SipRequest, ok: SipResponse, cseq: number): SipRequest {
  const target = ok.contacts()[0];
  assert.ok(target !== undefined && 'uri' in target);
  const next = new Request(method, target.uri);
  next.addHeader('via', `SIP/2.0/${ua.transport.toUpperCase()} ${ua.address}:${ua.port};branch=${newBranch()};rport`);
  next.addHeader('max-forwards', '70');
  for (const rr of [...ok.headerValues('record-route')].reverse()) next.addHeader('route', rr);
  next.addHeader('from', invite.header('from') ?? '');
  next.addHeader('to', ok.header('to') ?? '');
  next.addHeader('call-id', invite.callId());
  next.addHeader('cseq', `${cseq} ${method}`);
  next.addHeader('content-length', '0');
  return next;
}

/** A port where nothing listens. */
async function closedPort(address: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function result(destinations: readonly Destination[], domain: string): DestinationsResult {
  return {
    destinations: destinations.map((d) => ({
      destination: d,
      located: { transport: d.transport as 'udp' | 'tcp' | 'tls', address: d.address, family: 4, port: d.port, dnssec: 'insecure', lookups: [], identities: [domain] },
    })),
    located: { domain, targets: [], lookups: [] },
    failedLookups: [],
  };
}

/** The in-test world: users by name, routes by domain, what the registrar and the log saw. */
const users = new Map<string, () => Promise<LocalLookup>>();
const routes = new Map<string, Destination[]>();
const registers: SipRequest[] = [];
const logged: string[] = [];

const router: OutboundRouter = {
  destinations: (uri) => {
    // As the RFC 3263 locator does: a maddr is the target, the Request-URI's host the identity.
    const maddr = uri.param('maddr');
    if (typeof maddr === 'string') return Promise.resolve(result([{ transport: transportOf(uri), address: maddr, port: uri.port ?? 5060 }], uri.host));
    const configured = routes.get(uri.host);
    if (configured !== undefined) return Promise.resolve(result(configured, uri.host));
    if (uri.hostKind !== 'ipv4') return Promise.resolve(result([], uri.host));
    const transport = transportOf(uri);
    return Promise.resolve(result([{ transport, address: uri.host, port: uri.port ?? 5060 }], uri.host));
  },
};

function coreOptions(extra: Partial<ProxyCoreOptions> = {}): ProxyCoreOptions {
  return {
    stack: { listeners: [{ transport: 'udp', address: PROXY_ADDRESS, port: 0 }, { transport: 'tcp', address: PROXY_ADDRESS, port: 0 }], log: quiet },
    advertisedNames: [{ transport: 'udp', address: PROXY_ADDRESS, name: NAME }, { transport: 'tcp', address: PROXY_ADDRESS, name: NAME }],
    localDomains: { isLocal: (host) => host.toLowerCase() === 'a.test' || host === PROXY_ADDRESS },
    localUsers: {
      lookup: (uri) => {
        const entry = users.get(uri.user ?? '');
        return entry === undefined ? Promise.resolve({ kind: 'unknown-user' }) : entry();
      },
    },
    registrar: {
      handleRegister: (tx, register) => {
        registers.push(register);
        tx.respond(buildResponse(register, 200, 'OK', { toTag: newTag() }));
        return Promise.resolve();
      },
    },
    authorizer: {
      authorize: (req) => req.header('proxy-authorization') !== undefined
        ? { kind: 'authorized', user: 'alice' }
        : { kind: 'refused', response: { status: 407, reason: 'Proxy Authentication Required', headers: [{ name: 'proxy-authenticate', value: 'Digest realm="a.test", nonce="n1", algorithm=SHA-256, qop="auth"' }] } },
    },
    outbound: router,
    log: (_level, event, fields) => logged.push(`${event} ${JSON.stringify(fields)}`),
    ...extra,
  };
}

let proxy: ProxyCore;
let alice: Ua;
let bobUdp: Ua;
let bobTcp: Ua;
let carol: Ua;

function proxyUdp(core = proxy): Destination {
  const l = core.listening().find((x) => x.transport === 'udp');
  return { transport: 'udp', address: PROXY_ADDRESS, port: l?.port ?? 0 };
}

before(async () => {
  proxy = await ProxyCore.start(coreOptions());
  alice = await Ua.start('127.0.0.101', 'udp');
  bobUdp = await Ua.start('127.0.0.102', 'udp');
  bobTcp = await Ua.start('127.0.0.103', 'tcp');
  carol = await Ua.start('127.0.0.104', 'udp');
});

after(async () => {
  for (const ua of [alice, bobUdp, bobTcp, carol]) await ua?.close();
  await proxy?.close({ force: true });
});

function reset(): void {
  for (const ua of [bobUdp, bobTcp, carol]) {
    ua.received.length = 0;
    ua.acks.length = 0;
    ua.behaviour = 'answer';
    ua.contactPort = undefined;
  }
  users.clear();
  routes.clear();
  arrivals.length = 0;
}

/** A CANCEL for `invite`, as its caller builds it (section 9.1). */
function cancelOf(invite: SipRequest, reason?: string): SipRequest {
  const cancel = new Request('CANCEL', invite.uri);
  cancel.addHeader('via', invite.headerValues('via')[0] ?? '');
  for (const name of ['max-forwards', 'from', 'to', 'call-id']) cancel.addHeader(name, invite.header(name) ?? '');
  cancel.addHeader('cseq', `${invite.cseq().seq} CANCEL`);
  if (reason !== undefined) cancel.addHeader('reason', reason);
  cancel.addHeader('content-length', '0');
  return cancel;
}

test('a call: INVITE/180/200 from UDP to a TCP binding with two Record-Routes, ACK and BYE along the route set', async () => {
  reset();
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobTcp.target('bob')] }));
  const invite = request(alice, 'INVITE', 'sip:bob@a.test');
  const call = send(alice, invite, proxyUdp());
  const ok = await call.final;
  assert.equal(ok.status, 200);
  assert.deepEqual(call.responses.map((r) => r.status).filter((s) => s !== 100), [180, 200]);
  assert.deepEqual(ok.via().length, 1, 'our Via is gone from what the caller gets');

  const forwarded = bobTcp.received[0];
  assert.ok(forwarded !== undefined);
  assert.equal(forwarded.uri.toString(), `sip:bob@127.0.0.103:${bobTcp.port};transport=tcp`);
  assert.equal(forwarded.maxForwards(), 69);
  const top = forwarded.topVia();
  assert.equal(`${top?.transport} ${top?.host}`, `TCP ${NAME}`);
  const rr = ok.recordRoutes().map((r) => r.uri.toString().replace(/;sxflow=[^;]*/, ''));
  const tcpPort = proxy.listening().find((l) => l.transport === 'tcp')?.port;
  const udpPort = proxyUdp().port;
  assert.deepEqual(rr, [`sip:${NAME}:${tcpPort};transport=tcp;lr`, `sip:${NAME}:${udpPort};transport=udp;lr`]);

  await alice.stack.transactions.sendStateless(inDialog(alice, 'ACK', invite, ok, 1), proxyUdp());
  await until(() => bobTcp.acks.length === 1);
  assert.equal(bobTcp.acks[0]?.routes().length, 0, 'both of our Route entries are consumed');

  const bye = await send(alice, inDialog(alice, 'BYE', invite, ok, 2), proxyUdp()).final;
  assert.equal(bye.status, 200);
  assert.deepEqual(bobTcp.methods(), ['INVITE', 'BYE']);
  // Both contexts wait with their server transactions (Timer L, Timer J over UDP), having let go
  // of the routed request and the branches.
  assert.ok(proxy.contextCount >= 2);
  assert.equal(proxy.finishedContextCount, proxy.contextCount);
});

test('a user behind NAT: its Contact is unreachable, the INVITE goes over its binding\'s flow and so do the ACK and BYE of the dialog; its own BYE goes to the caller', async () => {
  reset();
  bobTcp.contactPort = await closedPort(bobTcp.address);
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobTcp.target('bob')] }));
  const invite = request(alice, 'INVITE', 'sip:bob@a.test');
  const ok = await send(alice, invite, proxyUdp()).final;
  assert.equal(ok.status, 200);
  assert.equal(bobTcp.received[0]?.uri.toString(), `sip:bob@${bobTcp.address}:${bobTcp.contactPort};transport=tcp`, 'the Request-URI is the registered Contact');
  assert.ok(ok.recordRoutes().every((r) => r.uri.type === 'sip' && typeof r.uri.param('sxflow') === 'string'), 'the flow token is in our Record-Route');

  await alice.stack.transactions.sendStateless(inDialog(alice, 'ACK', invite, ok, 1), proxyUdp());
  await until(() => bobTcp.acks.length === 1);
  assert.equal((await send(alice, inDialog(alice, 'INVITE', invite, ok, 2), proxyUdp()).final).status, 200, 'a re-INVITE');
  assert.deepEqual(bobTcp.methods(), ['INVITE', 'INVITE']);

  // The callee's BYE: its route set is the Record-Route in order, its remote target alice's Contact.
  const bye = new Request('BYE', parseSipUri(`sip:alice@${alice.address}:${alice.port};transport=udp`));
  bye.addHeader('via', `SIP/2.0/TCP ${bobTcp.address}:${bobTcp.port};branch=${newBranch()}`);
  bye.addHeader('max-forwards', '70');
  for (const rr of ok.headerValues('record-route')) bye.addHeader('route', rr);
  bye.addHeader('from', ok.header('to') ?? '');
  bye.addHeader('to', invite.header('from') ?? '');
  bye.addHeader('call-id', invite.callId());
  bye.addHeader('cseq', '1 BYE');
  bye.addHeader('content-length', '0');
  const tcpPort = proxy.listening().find((l) => l.transport === 'tcp')?.port ?? 0;
  const byeOk = await send(bobTcp, bye, { transport: 'tcp', address: PROXY_ADDRESS, port: tcpPort }).final;
  assert.equal(byeOk.status, 200);
  assert.deepEqual(alice.received.map((r) => r.method), ['BYE']);
  alice.received.length = 0;
});

test('486 from the only binding reaches the caller', async () => {
  reset();
  bobUdp.behaviour = 'busy';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  const final = await send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp()).final;
  assert.equal(final.status, 486);
});

// The timeout is a hang guard: without the fix the caller, past its 100, waits for the proxy's Timer C (3 min).
test('a callee that answers with our Via only (it dropped the caller\'s): nothing goes upstream, the caller gets 502 at once', { timeout: 60_000 }, async () => {
  reset();
  // A raw callee, as SIPp's uas-no-answer once was: its 486 carries only the first Via of the INVITE.
  const callee = createSocket('udp4');
  await new Promise<void>((resolve) => callee.bind(0, '127.0.0.113', resolve));
  callee.on('message', (data, from) => {
    const text = data.toString('latin1');
    if (!text.startsWith('INVITE ')) return;
    const header = (name: string): string => new RegExp(`^${name}: .*$`, 'mi').exec(text)?.[0] ?? '';
    const reply = ['SIP/2.0 486 Busy Here', header('Via'), header('From'), `${header('To')};tag=raw1`, header('Call-ID'), header('CSeq'), 'Content-Length: 0', '', ''].join('\r\n');
    callee.send(Buffer.from(reply, 'latin1'), from.port, from.address);
  });
  try {
    const port = callee.address().port;
    users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [{ uri: parseSipUri(`sip:bob@127.0.0.113:${port}`), destination: { transport: 'udp', address: '127.0.0.113', port }, path: [], q: undefined, instanceId: undefined }] }));
    const final = await send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp()).final;
    assert.equal(final.status, 502, logged.slice(-5).join('\n'));
    assert.ok(logged.some((line) => line.startsWith('proxy-invalid-message') && line.includes('no Via under ours')), logged.slice(-5).join('\n'));
  } finally {
    callee.close();
  }
});

test('CANCEL: 200 to the CANCEL, the branch is cancelled, the caller gets 487', async () => {
  reset();
  bobUdp.behaviour = 'ring';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  const invite = request(alice, 'INVITE', 'sip:bob@a.test');
  const call = send(alice, invite, proxyUdp());
  await until(() => call.responses.some((r) => r.status === 180));
  const cancelled = await send(alice, cancelOf(invite, 'SIP;cause=480;text="hung up"'), proxyUdp()).final;
  assert.equal(cancelled.status, 200);
  assert.equal((await call.final).status, 487);
  assert.deepEqual(bobUdp.methods(), ['INVITE', 'CANCEL']);
  assert.equal(bobUdp.received[1]?.header('reason'), 'SIP;cause=480;text="hung up"', 'the caller\'s Reason goes on (RFC 3326)');
  // A CANCEL for an INVITE the proxy never saw matches nothing: 481 naming no-transaction.
  const stray = await send(alice, cancelOf(request(alice, 'INVITE', 'sip:bob@a.test')), proxyUdp()).final;
  assert.equal(stray.status, 481);
  assert.match(stray.warnings()[0]?.text ?? '', /^no-transaction: /);
});

test('forking: both bindings ring, one answers, the other is cancelled; the caller gets one 200', async () => {
  reset();
  bobUdp.behaviour = 'ring';
  carol.behaviour = 'answer';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob'), carol.target('bob')] }));
  const call = send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp());
  const final = await call.final;
  assert.equal(final.status, 200);
  await until(() => bobUdp.methods().includes('CANCEL'));
  assert.deepEqual(bobUdp.methods(), ['INVITE', 'CANCEL']);
  assert.equal(bobUdp.received[1]?.header('reason'), 'SIP;cause=200;text="Call completed elsewhere"');
  assert.equal(call.responses.filter((r) => r.status >= 200).length, 1);
});

test('forking: when both bindings answer, both 2xx reach the caller (section 16.7 step 5), with different To tags', async () => {
  reset();
  alice.strays.length = 0;
  bobUdp.behaviour = 'answer';
  carol.behaviour = 'answer';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob'), carol.target('bob')] }));
  const call = send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp());
  const first = await call.final;
  assert.equal(first.status, 200);
  await until(() => alice.strays.some((r) => r.status === 200));
  const second = alice.strays.find((r) => r.status === 200);
  assert.notEqual(second?.toTag(), first.toTag());
  assert.equal(second?.via().length, 1);
});

test('sequential forking by q: the q=1 bindings ring together, the q=0.5 one only when both failed', async () => {
  reset();
  bobUdp.behaviour = 'busy';
  bobTcp.behaviour = 'busy';
  carol.behaviour = 'answer';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [carol.target('bob', 0.5), bobUdp.target('bob', 1), bobTcp.target('bob')] }));
  const final = await send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp()).final;
  assert.equal(final.status, 200, 'the lower group answered');
  const invites = arrivals.filter((a) => a.endsWith(' INVITE'));
  assert.deepEqual(invites.slice(0, 2).sort(), [`${bobUdp.address} INVITE`, `${bobTcp.address} INVITE`].sort());
  assert.deepEqual(invites.slice(2), [`${carol.address} INVITE`], 'carol only after both 486s');
});

test('sequential forking by q: a 6xx or a CANCEL in the first group means the next one is never tried', async () => {
  reset();
  bobUdp.behaviour = 'decline';
  carol.behaviour = 'answer';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob', 0.9), carol.target('bob', 0.1)] }));
  assert.equal((await send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), proxyUdp()).final).status, 603);
  assert.deepEqual(carol.received, []);

  reset();
  bobUdp.behaviour = 'ring';
  carol.behaviour = 'answer';
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob', 0.9), carol.target('bob', 0.1)] }));
  const invite = request(alice, 'INVITE', 'sip:bob@a.test');
  const call = send(alice, invite, proxyUdp());
  await until(() => call.responses.some((r) => r.status === 180));
  assert.equal((await send(alice, cancelOf(invite), proxyUdp()).final).status, 200);
  assert.equal((await call.final).status, 487);
  assert.deepEqual(bobUdp.methods(), ['INVITE', 'CANCEL']);
  assert.deepEqual(carol.received, []);
});

/** A promise to settle from outside, for a look-up that answers when the test says. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// The timeout is a hang guard: without the fix the 487 waits for the look-up, which the test only answers after it.
test('CANCEL while the next hop or the binding is still being looked up: 487 at once, nothing sent when the look-up answers', { timeout: 60_000 }, async () => {
  reset();
  const auth: ReadonlyArray<readonly [string, string]> = [['proxy-authorization', 'Digest username="alice"']];
  const dns = deferred<DestinationsResult>();
  let located = false;
  const slow = await ProxyCore.start(coreOptions({
    stack: { listeners: [{ transport: 'udp', address: '127.0.0.114', port: 0 }], log: quiet },
    advertisedNames: [{ transport: 'udp', address: '127.0.0.114', name: NAME }],
    outbound: {
      destinations: (uri) => {
        if (uri.host !== 'slow.test') return router.destinations(uri, { receivedOn: 'udp', fromDomain: undefined });
        located = true;
        return dns.promise;
      },
    },
  }));
  try {
    const to: Destination = { transport: 'udp', address: '127.0.0.114', port: slow.listening()[0]?.port ?? 0 };
    const invite = request(alice, 'INVITE', 'sip:carol@slow.test', auth);
    const call = send(alice, invite, to);
    await until(() => located);
    assert.equal((await send(alice, cancelOf(invite), to).final).status, 200);
    assert.equal((await call.final).status, 487);
    dns.resolve(result([{ transport: 'udp', address: carol.address, port: carol.port }], 'slow.test'));
    // A request sent after the look-up answered reaches carol; the cancelled INVITE, which would have gone first, does not.
    routes.set('c.test', [{ transport: 'udp', address: carol.address, port: carol.port }]);
    assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:carol@c.test', auth), to).final).status, 200);
    assert.deepEqual(carol.methods(), ['OPTIONS']);

    const lookup = deferred<LocalLookup>();
    let asked = false;
    users.set('bob', () => {
      asked = true;
      return lookup.promise;
    });
    const local = request(alice, 'INVITE', 'sip:bob@a.test');
    const ringing = send(alice, local, to);
    await until(() => asked);
    assert.equal((await send(alice, cancelOf(local), to).final).status, 200);
    assert.equal((await ringing.final).status, 487);
    lookup.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] });
    users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
    assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:bob@a.test'), to).final).status, 200);
    assert.deepEqual(bobUdp.methods(), ['OPTIONS']);
  } finally {
    await slow.close({ force: true });
  }
});

/** The user `quiet`, whose only binding is a UDP socket at `address` that never answers: what it heard, by method. */
async function silentUser(address: string): Promise<{ readonly heard: string[]; readonly close: () => void }> {
  const callee = createSocket('udp4');
  const heard: string[] = [];
  callee.on('message', (data) => heard.push(data.toString('latin1').split(' ')[0] ?? ''));
  await new Promise<void>((resolve) => callee.bind(0, address, resolve));
  const port = callee.address().port;
  users.set('quiet', () => Promise.resolve({ kind: 'targets', targets: [{ uri: parseSipUri(`sip:quiet@${address}:${port}`), destination: { transport: 'udp', address, port }, path: [], q: undefined, instanceId: undefined }] }));
  return { heard, close: () => callee.close() };
}

/** A core of its own on one UDP address, with the transaction timers a test needs. */
function udpCore(address: string, timers: Partial<TxTimers>): Promise<ProxyCore> {
  return ProxyCore.start(coreOptions({
    stack: { listeners: [{ transport: 'udp', address, port: 0 }], log: quiet, transactions: { timers } },
    advertisedNames: [{ transport: 'udp', address, name: NAME }],
  }));
}

test('RFC 4320: a non-INVITE whose only branch times out gets no 408; the proxy\'s server transaction ends without a final', { timeout: 60_000 }, async () => {
  reset();
  const { heard, close } = await silentUser('127.0.0.115');
  // Short timers on the proxy only: its Timer F fires long before the caller's (default T1).
  const quick = await udpCore('127.0.0.116', { t1Ms: 20 });
  try {
    const to: Destination = { transport: 'udp', address: '127.0.0.116', port: quick.listening()[0]?.port ?? 0 };
    const message = send(alice, request(alice, 'MESSAGE', 'sip:quiet@a.test'), to);
    await until(() => logged.some((l) => l.startsWith('proxy-final-withheld ') && l.includes(message.request.callId())));
    await until(() => quick.contextCount === 0);
    assert.ok(heard.includes('MESSAGE'), 'the request was forwarded');
    assert.deepEqual(message.responses.map((r) => r.status), [], 'no 408, no response at all');
  } finally {
    close();
    await quick.close({ force: true });
  }
});

test('RFC 4320 section 4.1: a MESSAGE nobody answers gets the proxy\'s 100 once the caller\'s Timer E is at T2, and still no 408', { timeout: 60_000 }, async () => {
  reset();
  const { heard, close } = await silentUser('127.0.0.118');
  // The default T1 and T2, so the 100 comes when a default caller's Timer E is reset to T2; Timer F
  // and J shortened only so that the test need not wait 64*T1 twice for the end without a final.
  const core = await udpCore('127.0.0.117', { timerFMs: timerEReachesT2Ms(TX_TIMERS) + TX_TIMERS.t2Ms, timerJMs: 2 * TX_TIMERS.t1Ms });
  try {
    const to: Destination = { transport: 'udp', address: '127.0.0.117', port: core.listening()[0]?.port ?? 0 };
    const message = send(alice, request(alice, 'MESSAGE', 'sip:quiet@a.test'), to);
    await until(() => message.responses.length > 0);
    // Order, not time: the proxy's own copy had gone out at 0, T1 and 3*T1 (Timer E still short of T2) before its 100.
    assert.ok(heard.filter((m) => m === 'MESSAGE').length >= 3, `the callee heard ${heard.length} copies before the 100`);
    await until(() => logged.some((l) => l.startsWith('proxy-final-withheld ') && l.includes(message.request.callId())));
    await until(() => core.contextCount === 0);
    const statuses = message.responses.map((r) => r.status);
    assert.ok(statuses.length > 0 && statuses.every((status) => status === 100), `only 100s reached the caller: ${statuses.join(' ')}`);
  } finally {
    close();
    await core.close({ force: true });
  }
});

test('Timer C: a ringing branch is cancelled (487), a silent one ends in 408 naming timer-c', async () => {
  reset();
  // Timer C on virtual time, moved on once the branch is where the test wants it: no race with the network.
  const clock = new VirtualClock();
  const short = await ProxyCore.start(coreOptions({ clock, stack: { listeners: [{ transport: 'udp', address: '127.0.0.105', port: 0 }, { transport: 'tcp', address: '127.0.0.105', port: 0 }], log: quiet }, advertisedNames: [{ transport: 'udp', address: '127.0.0.105', name: NAME }, { transport: 'tcp', address: '127.0.0.105', name: NAME }] }));
  const silent = await Ua.start('127.0.0.106', 'tcp', { sendTrying: false });
  try {
    const to = { transport: 'udp' as const, address: '127.0.0.105', port: short.listening()[0]?.port ?? 0 };
    bobUdp.behaviour = 'ring';
    users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
    const ringing = send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), to);
    await until(() => ringing.responses.some((r) => r.status === 180));
    const fired = (): number => logged.filter((l) => l.startsWith('proxy-timer-c ')).length;
    const before = fired();
    clock.advance(TX_TIMERS.timerCMs - 1);
    assert.equal(fired(), before, 'Timer C has not fired yet');
    clock.advance(1);
    assert.equal(fired(), before + 1);
    assert.equal((await ringing.final).status, 487);
    assert.deepEqual(bobUdp.methods(), ['INVITE', 'CANCEL']);

    silent.behaviour = 'silent';
    users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [silent.target('bob')] }));
    const unanswered = send(alice, request(alice, 'INVITE', 'sip:bob@a.test'), to);
    await until(() => silent.received.length === 1);
    clock.advance(TX_TIMERS.timerCMs);
    const timeout = await unanswered.final;
    assert.equal(timeout.status, 408);
    assert.equal(timeout.reasons()[0]?.text, 'timer-c');
    assert.match(timeout.warnings()[0]?.text ?? '', /^timer-c: /);
  } finally {
    await silent.close();
    await short.close({ force: true });
  }
});

test('483, 420 with Unsupported, and 482 for a request that comes back to the proxy unchanged', async () => {
  reset();
  const tooMany = request(alice, 'OPTIONS', 'sip:bob@a.test');
  tooMany.setHeader('max-forwards', '0');
  assert.equal((await send(alice, tooMany, proxyUdp()).final).status, 483);

  const extension = request(alice, 'OPTIONS', 'sip:bob@a.test', [['proxy-require', 'foo']]);
  const refused = await send(alice, extension, proxyUdp()).final;
  assert.equal(refused.status, 420);
  assert.deepEqual(refused.unsupported(), ['foo']);

  // A binding that points back at the proxy with the same Request-URI: the second pass has looped.
  const self = proxyUdp();
  users.set('loop', () => Promise.resolve({ kind: 'targets', targets: [{ uri: parseSipUri('sip:loop@a.test'), destination: self, path: [], q: undefined, instanceId: undefined }] }));
  assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:loop@a.test'), proxyUdp()).final).status, 482);
});

test('location answers: 404 unknown user, 480 with Warning naming not-registered, 500 with Retry-After when the store fails', async () => {
  reset();
  assert.equal((await send(alice, request(alice, 'INVITE', 'sip:nobody@a.test'), proxyUdp()).final).status, 404);
  users.set('away', () => Promise.resolve({ kind: 'unavailable', status: 480, why: 'not-registered' }));
  const away = await send(alice, request(alice, 'INVITE', 'sip:away@a.test'), proxyUdp()).final;
  assert.equal(away.status, 480);
  assert.match(away.warnings()[0]?.text ?? '', /^not-registered: /);
  users.set('store', () => Promise.resolve({ kind: 'store-failed', retryAfterS: 7, detail: 'redis: connection refused' }));
  const failed = await send(alice, request(alice, 'INVITE', 'sip:store@a.test'), proxyUdp()).final;
  assert.equal(failed.status, 500);
  assert.equal(failed.retryAfter(), 7);
  assert.doesNotMatch(failed.header('warning') ?? '', /redis/, 'the backend detail stays in the log');
});

test('a location service that throws gives 500, and the proxy goes on', async () => {
  reset();
  users.set('broken', () => Promise.reject(new Error('bug in lookup')));
  assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:broken@a.test'), proxyUdp()).final).status, 500);
  assert.ok(logged.some((l) => l.startsWith('proxy-request-failed') && l.includes('bug in lookup')));
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:bob@a.test'), proxyUdp()).final).status, 200);
});

test('a logger that throws changes nothing: the caller of a failing lookup still gets 500', async () => {
  reset();
  const fragile = await ProxyCore.start(coreOptions({
    stack: { listeners: [{ transport: 'udp', address: '127.0.0.112', port: 0 }], log: quiet },
    advertisedNames: [{ transport: 'udp', address: '127.0.0.112', name: NAME }],
    log: () => {
      throw new Error('logger down');
    },
  }));
  try {
    users.set('broken', () => Promise.reject(new Error('bug in lookup')));
    const to: Destination = { transport: 'udp', address: '127.0.0.112', port: fragile.listening()[0]?.port ?? 0 };
    assert.equal((await send(alice, request(alice, 'OPTIONS', 'sip:broken@a.test'), to).final).status, 500);
  } finally {
    await fragile.close({ force: true });
  }
});

test('OPTIONS to the proxy or to the domain itself is answered by the proxy; REGISTER for the local domain goes to the registrar', async () => {
  reset();
  for (const uri of [`sip:${NAME}:${proxyUdp().port}`, 'sip:a.test']) {
    const answered = await send(alice, request(alice, 'OPTIONS', uri), proxyUdp()).final;
    assert.equal(answered.status, 200, uri);
    assert.ok(answered.header('allow')?.includes('INVITE'));
  }
  const notServed = await send(alice, request(alice, 'MESSAGE', 'sip:a.test'), proxyUdp()).final;
  assert.equal(notServed.status, 404);
  assert.match(notServed.warnings()[0]?.text ?? '', /^not-found: /);
  registers.length = 0;
  const final = await send(alice, request(alice, 'REGISTER', 'sip:a.test'), proxyUdp()).final;
  assert.equal(final.status, 200);
  assert.equal(registers.length, 1);
});

test('no open relay: a stranger to another domain gets 403, a local user without credentials 407, with them the request goes out', async () => {
  reset();
  routes.set('c.test', [{ transport: 'udp', address: carol.address, port: carol.port }]);
  const stranger = await send(alice, request(alice, 'INVITE', 'sip:carol@c.test', [], 'sip:mallory@evil.test'), proxyUdp()).final;
  assert.equal(stranger.status, 403);
  assert.match(stranger.warnings()[0]?.text ?? '', /^relay-refused: /);
  const challenged = await send(alice, request(alice, 'INVITE', 'sip:carol@c.test'), proxyUdp()).final;
  assert.equal(challenged.status, 407);
  assert.equal(challenged.proxyAuthenticates().length, 1);
  // A challenge says what to do in its own header; the word is in the log only.
  assert.equal(challenged.warnings().length, 0);
  assert.ok(logged.some((line) => line.startsWith('proxy-request-refused ') && line.includes('"word":"not-authorized"')), logged.slice(-5).join('\n'));
  assert.equal(carol.received.length, 0);
  const authorized = await send(alice, request(alice, 'INVITE', 'sip:carol@c.test', [['proxy-authorization', 'Digest username="alice"']]), proxyUdp()).final;
  assert.equal(authorized.status, 200);
  assert.equal(carol.received.length, 1);
  // An in-dialog request without our Route, to another domain, is challenged like any other.
  const forged = request(alice, 'BYE', 'sip:carol@c.test');
  forged.setHeader('to', '<sip:carol@c.test>;tag=forged');
  assert.equal((await send(alice, forged, proxyUdp()).final).status, 407);
});

test('failover: the first destination refuses the connection, the second answers; when all fail, 500 with Warning and Reason', async () => {
  reset();
  const refusing: Destination = { transport: 'tcp', address: '127.0.0.107', port: await closedPort('127.0.0.107') };
  routes.set('b.test', [refusing, { transport: 'udp', address: carol.address, port: carol.port }]);
  const auth: ReadonlyArray<readonly [string, string]> = [['proxy-authorization', 'Digest username="alice"']];
  const ok = await send(alice, request(alice, 'INVITE', 'sip:bob@b.test', auth), proxyUdp()).final;
  assert.equal(ok.status, 200);
  assert.equal(carol.received.length, 1);

  routes.set('b.test', [refusing]);
  const failed = await send(alice, request(alice, 'INVITE', 'sip:bob@b.test', auth), proxyUdp()).final;
  assert.equal(failed.status, 500);
  const warning = failed.warnings()[0];
  assert.equal(warning?.agent, `${NAME}:${proxy.listening().find((l) => l.transport === 'tcp')?.port}`, 'our advertised name and the port of the side that failed');
  assert.match(warning?.text ?? '', /^connection-refused: /);
  assert.equal(failed.reasons()[0]?.text, 'connection-refused');

  routes.set('b.test', []);
  const nowhere = await send(alice, request(alice, 'INVITE', 'sip:bob@b.test', auth), proxyUdp()).final;
  assert.equal(nowhere.status, 500);
  assert.equal(nowhere.reasons()[0]?.text, 'no-destination');
});

test('failover over TLS: a server whose certificate is refused, then one that answers 503, then a verified one; the sips Record-Route faces the TLS side', async () => {
  reset();
  const ca = issueCertificate({ cn: 'Proxy test CA', ca: true });
  const proxyCert = issueCertificate({ cn: NAME, issuer: ca, san: { dns: [NAME] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const wrong = issueCertificate({ cn: 'other.example', issuer: ca, san: { dns: ['other.example'] }, eku: [EKU_SERVER_AUTH] });
  const good = issueCertificate({ cn: 'b.test', issuer: ca, san: { dns: ['b.test'] }, eku: [EKU_SERVER_AUTH] });
  const tlsProxy = await ProxyCore.start(coreOptions({
    stack: {
      listeners: [{ transport: 'udp', address: '127.0.0.108', port: 0 }, { transport: 'tls', address: '127.0.0.108', port: 0, certificates: [{ domains: [NAME], cert: proxyCert.pem, key: proxyCert.keyPem }] }],
      trustStore: TrustStore.fromPem(ca.pem),
      clientCertificate: { cert: proxyCert.pem, key: proxyCert.keyPem },
      log: quiet,
    },
    advertisedNames: [{ transport: 'udp', address: '127.0.0.108', name: NAME }, { transport: 'tls', address: '127.0.0.108', name: NAME }],
  }));
  const impostorSaw: SipRequest[] = [];
  const serverSaw: SipRequest[] = [];
  const impostor = await Responder.start({ listeners: [{ transport: 'tls', address: '127.0.0.109', port: 0, certificates: [{ domains: ['other.example'], cert: wrong.pem, key: wrong.keyPem }] }], log: quiet, onAnswered: (r) => impostorSaw.push(r) });
  const server = await Responder.start({ listeners: [{ transport: 'tls', address: '127.0.0.110', port: 0, certificates: [{ domains: ['b.test'], cert: good.pem, key: good.keyPem }] }], log: quiet, onAnswered: (r) => serverSaw.push(r) });
  try {
    const to: Destination = { transport: 'udp', address: '127.0.0.108', port: tlsProxy.listening().find((l) => l.transport === 'udp')?.port ?? 0 };
    const tlsTarget = { sipDomain: 'b.test' };
    const refusing: Destination = { transport: 'tls', address: '127.0.0.109', port: impostor.listening()[0]?.port ?? 0, tlsTarget };
    carol.behaviour = 'unavailable';
    routes.set('b.test', [refusing, { transport: 'udp', address: carol.address, port: carol.port }, { transport: 'tls', address: '127.0.0.110', port: server.listening()[0]?.port ?? 0, tlsTarget }]);
    const auth: ReadonlyArray<readonly [string, string]> = [['proxy-authorization', 'Digest username="alice"']];
    const ok = await send(alice, request(alice, 'INVITE', 'sip:bob@b.test', auth), to).final;
    assert.equal(ok.status, 200);
    assert.deepEqual(carol.methods(), ['INVITE'], 'the 503 sent the request on');
    const forwarded = serverSaw.find((r) => r.method === 'INVITE');
    assert.equal(impostorSaw.length, 0, 'the impostor got nothing: refused before any byte of SIP');
    const tlsPort = tlsProxy.listening().find((l) => l.transport === 'tls')?.port;
    // (The flow token holds the caller's flow: its INVITE came straight from its user agent.)
    assert.deepEqual(forwarded?.recordRoutes().map((r) => r.uri.toString().replace(/;sxflow=[^;]*/, '')), [`sips:${NAME}:${tlsPort};lr`, `sip:${NAME}:${to.port};transport=udp;lr`]);
    assert.equal(forwarded?.topVia()?.transport, 'TLS');
    const hopFailed = logged.filter((l) => l.startsWith('proxy-hop-failed ') && l.includes('"word":"peer-not-authenticated"'));
    assert.equal(hopFailed.length, 1);
    assert.match(hopFailed[0] ?? '', /"verdict":\[[^\]]*"name-mismatch"/);

    routes.set('b.test', [refusing]);
    const failed = await send(alice, request(alice, 'INVITE', 'sip:bob@b.test', auth), to).final;
    assert.equal(failed.status, 500);
    assert.match(failed.warnings()[0]?.text ?? '', /^peer-not-authenticated: /);
    assert.equal(failed.reasons()[0]?.text, 'peer-not-authenticated');
  } finally {
    await tlsProxy.close({ force: true });
    await impostor.close();
    await server.close();
  }
});

test('maddr (sections 16.4, 16.5): naming the proxy it is taken off and the user looked up; naming another host, the request goes there, for our users only', async () => {
  reset();
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  const port = proxyUdp().port;
  const toUs = await send(alice, request(alice, 'INVITE', `sip:bob@a.test:${port};maddr=${PROXY_ADDRESS};transport=udp`), proxyUdp()).final;
  assert.equal(toUs.status, 200);
  assert.deepEqual(bobUdp.methods(), ['INVITE']);
  assert.equal(bobUdp.received[0]?.uri.toString(), bobUdp.target('bob').uri.toString());

  reset();
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  const elsewhere = `sip:bob@a.test:${carol.port};maddr=${carol.address}`;
  const stranger = await send(alice, request(alice, 'INVITE', elsewhere, [], 'sip:mallory@evil.test'), proxyUdp()).final;
  assert.equal(stranger.status, 403, 'a maddr elsewhere is a relay: refused to a stranger even for our domain');
  assert.match(stranger.warnings()[0]?.text ?? '', /^relay-refused: /);
  const ours = await send(alice, request(alice, 'INVITE', elsewhere, [['proxy-authorization', 'Digest username="alice"']]), proxyUdp()).final;
  assert.equal(ours.status, 200);
  assert.deepEqual(carol.methods(), ['INVITE']);
  assert.equal(carol.received[0]?.uri.toString(), elsewhere, 'the Request-URI is the target, unchanged');
  assert.equal(bobUdp.received.length, 0, 'the location service was not asked');
});

test('call forwarding to a user of our own domain is followed here, not sent out; a forwarding cycle gets 482 naming it', async () => {
  reset();
  users.set('bob', () => Promise.resolve({ kind: 'targets', targets: [bobUdp.target('bob')] }));
  users.set('alias', () => Promise.resolve({ kind: 'forward', target: parseSipUri('sip:desk@a.test') }));
  users.set('desk', () => Promise.resolve({ kind: 'forward', target: parseSipUri('sip:bob@A.TEST') }));
  // From another domain: a request for our users needs no credentials, and a forward is no relay.
  const forwarded = await send(alice, request(alice, 'INVITE', 'sip:alias@a.test', [], 'sip:mallory@evil.test'), proxyUdp()).final;
  assert.equal(forwarded.status, 200);
  assert.deepEqual(bobUdp.methods(), ['INVITE']);
  assert.ok(logged.some((line) => line.startsWith('proxy-forwarded ') && line.includes('"to":"sip:bob@A.TEST"')), logged.slice(-5).join('\n'));

  reset();
  users.set('ping', () => Promise.resolve({ kind: 'forward', target: parseSipUri('sip:pong@a.test') }));
  users.set('pong', () => Promise.resolve({ kind: 'forward', target: parseSipUri('sip:ping@a.test') }));
  const looped = await send(alice, request(alice, 'MESSAGE', 'sip:ping@a.test', [], 'sip:mallory@evil.test'), proxyUdp()).final;
  assert.equal(looped.status, 482);
  assert.match(looped.warnings()[0]?.text ?? '', /^loop-detected: call forwarding loops: ping@a\.test -> pong@a\.test -> ping@a\.test$/);
});
