import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../src/dns/create-resolver.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import { LocatingRouter } from '../../src/proxy/outbound-router.js';
import { parseSipUri } from '../../src/sip/uri.js';
import type { ClientCertificate } from '../../src/transport/transport-context.js';
import { askThroughProxy, showResponse } from '../support/trapezoid-ua.js';
import {
  startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_ANNEX_USER, TRAP_OUT_DNS, TRAP_OUT_DNS_ADDRESS, TRAP_USERS, writeTwoDomainConfigA,
  type TrapezoidLab,
} from '../support/trapezoid-lab.js';

let lab: TrapezoidLab;
let resolver: CachingResolver;

before(async () => {
  lab = await startTrapezoidLab();
  resolver = await createResolver({ configFile: lab.dnsConfig, rootAnchorFile: null });
});

after(async () => {
  await resolver?.close();
  await lab?.stop();
});

test('another domain is reached over TLS only, even where DNS also offers UDP', async () => {
  const router = new LocatingRouter({ resolver });
  for (const receivedOn of ['udp', 'tcp', 'tls'] as const) {
    const result = await router.destinations(parseSipUri(`sip:bob@${TRAP.b}`), { receivedOn, fromDomain: TRAP.a });
    // The zone publishes SIPS+D2T and SIP+D2U: the locator gives both, the router keeps TLS.
    assert.deepEqual(result.located.targets.map((t) => t.transport).sort(), ['tls', 'udp']);
    assert.deepEqual(result.destinations.map((d) => [d.destination.transport, d.destination.address, d.destination.port]), [['tls', TRAP_ADDRESS.b, 5061]]);
    assert.equal(result.destinations[0]?.destination.tlsTarget?.sipDomain, TRAP.b);
  }
});

test('a DANE domain carries its TLSA RRset; a bogus one gives no destination and names the lookup', async () => {
  const router = new LocatingRouter({ resolver });
  const dane = await router.destinations(parseSipUri(`sip:alice@${TRAP.a}`), { receivedOn: 'udp', fromDomain: TRAP.b });
  assert.equal(dane.destinations[0]?.destination.tlsTarget?.tlsa?.records.length, 1);
  const bogus = await router.destinations(parseSipUri(`sip:x@${TRAP.bogus}`), { receivedOn: 'udp', fromDomain: TRAP.a });
  assert.equal(bogus.destinations.length, 0);
  assert.ok(bogus.failedLookups.some((l) => l.state === 'bogus'), JSON.stringify(bogus.failedLookups));
});

const certificate = (name: string): ClientCertificate => ({ cert: `${name} chain`, key: `${name} key` });

test('each hop presents the From domain\'s certificate, one requirement object per domain; a foreign From domain gets the first domain\'s', async () => {
  const mine = certificate(TRAP.a);
  const annex = certificate(TRAP_OUT_DNS.annex);
  const router = new LocatingRouter({ resolver, clientCertificates: new Map([[TRAP.a, mine], [TRAP_OUT_DNS.annex, annex]]) });
  const uri = parseSipUri(`sip:bob@${TRAP.b}`);
  const securityOf = async (fromDomain: string | undefined): Promise<unknown> =>
    (await router.destinations(uri, { receivedOn: 'udp', fromDomain })).destinations[0]?.destination.security;
  const fromA = await securityOf(TRAP.a);
  const fromAnnex = await securityOf(TRAP_OUT_DNS.annex);
  assert.deepEqual(fromA, { tls: 'required', clientCertificate: mine });
  assert.deepEqual(fromAnnex, { tls: 'required', clientCertificate: annex });
  // The same object each time (the transport resolves a requirement once per object and keys reuse on it).
  assert.equal(await securityOf(TRAP_OUT_DNS.annex), fromAnnex);
  assert.equal(await securityOf('ANNEX.trap.test'), fromAnnex);
  // Not ours (a far user's in-dialog request, a request retargeted elsewhere): the first domain's.
  assert.equal(await securityOf(TRAP.b), fromA);
  assert.equal(await securityOf(undefined), fromA);
  // Without certificates the transport's default applies.
  assert.deepEqual((await new LocatingRouter({ resolver }).destinations(uri, { receivedOn: 'udp', fromDomain: TRAP.a })).destinations[0]?.destination.security, { tls: 'required' });
});

test('the hop rule follows what DNS proved: dane for secure + TLSA (also when it will not match), rfc5922 for secure without TLSA and for insecure', async () => {
  const router = new LocatingRouter({ resolver });
  const ruleOf = async (domain: string): Promise<unknown> => (await router.destinations(parseSipUri(`sip:x@${domain}`), { receivedOn: 'udp', fromDomain: TRAP.a })).hops;
  assert.deepEqual(await ruleOf(TRAP.a), [{ rule: 'dane', dnssec: 'secure' }]);
  assert.deepEqual(await ruleOf(TRAP.daneMismatch), [{ rule: 'dane', dnssec: 'secure' }]);
  assert.deepEqual(await ruleOf(TRAP.b), [{ rule: 'rfc5922', dnssec: 'secure' }]);
  assert.deepEqual(await ruleOf(TRAP_OUT_DNS.insecure), [{ rule: 'rfc5922', dnssec: 'insecure' }]);
});

test('require-dnssec refuses an insecure domain and keeps a secure one; require-dane refuses a domain without TLSA and keeps a DANE one', async () => {
  const locate = (options: { requireDnssec?: boolean; requireDane?: boolean }, domain: string) =>
    new LocatingRouter({ resolver, ...options }).destinations(parseSipUri(`sip:x@${domain}`), { receivedOn: 'udp', fromDomain: TRAP.a });
  const off = await locate({}, TRAP_OUT_DNS.insecure);
  assert.equal(off.refusal, undefined);
  assert.deepEqual(off.destinations.map((d) => d.destination.address), [TRAP_OUT_DNS_ADDRESS]);

  const insecure = await locate({ requireDnssec: true }, TRAP_OUT_DNS.insecure);
  assert.equal(insecure.destinations.length, 0);
  assert.equal(insecure.refusal?.word, 'dnssec-required');
  assert.match(insecure.refusal?.detail ?? '', /insecure\.trap\.test is not DNSSEC-secure \(NAPTR insecure\.trap\.test\.? is insecure\)/);
  assert.deepEqual(insecure.require, { dnssec: true, dane: false });
  const secure = await locate({ requireDnssec: true }, TRAP.b);
  assert.equal(secure.refusal, undefined);
  assert.equal(secure.destinations.length, 1);

  const noTlsa = await locate({ requireDane: true }, TRAP.b);
  assert.equal(noTlsa.destinations.length, 0);
  assert.equal(noTlsa.refusal?.word, 'dane-required');
  assert.match(noTlsa.refusal?.detail ?? '', /b\.trap\.test has no usable TLSA RRset \(no TLSA at _5061\._tcp\.sip\.b\.trap\.test/);
  const insecureDane = await locate({ requireDane: true }, TRAP_OUT_DNS.insecure);
  assert.match(insecureDane.refusal?.detail ?? '', /the DNS chain is insecure/);
  // Both on: the chain is judged first.
  assert.equal((await locate({ requireDnssec: true, requireDane: true }, TRAP_OUT_DNS.insecure)).refusal?.word, 'dnssec-required');
  const dane = await locate({ requireDnssec: true, requireDane: true }, TRAP.a);
  assert.equal(dane.refusal, undefined);
  assert.deepEqual(dane.hops, [{ rule: 'dane', dnssec: 'secure' }]);
});

test('a proxy serving two domains presents each From domain\'s certificate to the far proxy, on separate connections', async () => {
  const proxyA = await startProxy(await writeTwoDomainConfigA(lab));
  const proxyB = await startProxy(lab.configs.b);
  try {
    const logs = (): string => `\nproxy A:\n${proxyA.output().slice(-4000)}\nproxy B:\n${proxyB.output().slice(-4000)}`;
    const ask = (user: string, domain: string, password: string) =>
      askThroughProxy({ address: TRAP_OUT_DNS_ADDRESS, proxy: TRAP_ADDRESS.a, user, domain, password }, 'OPTIONS', `sip:${TRAP.b}`);
    const fromAnnex = await ask(TRAP_ANNEX_USER.name, TRAP_OUT_DNS.annex, TRAP_ANNEX_USER.password);
    assert.equal(fromAnnex.status, 200, `${showResponse(fromAnnex)}${logs()}`);
    const fromA = await ask('alice', TRAP.a, TRAP_USERS.a.alice);
    assert.equal(fromA.status, 200, `${showResponse(fromA)}${logs()}`);
    const accepted = proxyB.events().filter((e) => e.event === 'tls-accepted').map((e) => String(e.detail));
    // The annex request went first: a connection with a.trap.test's certificate would have been
    // reused for it, were requirements not kept per domain.
    assert.equal(accepted.length, 2, logs());
    const annex = new RegExp(`identities .*\\b${TRAP_OUT_DNS.annex.replace(/\./g, '\\.')}`);
    assert.match(accepted[0] ?? '', annex, logs());
    assert.match(accepted[1] ?? '', new RegExp(`identities .*\\b${TRAP.a.replace(/\./g, '\\.')}`), logs());
    assert.doesNotMatch(accepted[1] ?? '', annex, 'the second connection presents a.trap.test\'s own certificate');
    // The annex certificate names A's advertised name too: no start-up warning about it.
    assert.deepEqual(proxyA.events().filter((e) => e.event === 'config-warning' && /Via and Record-Route/.test(String(e.detail))), [], logs());
  } finally {
    await proxyA.stop();
    await proxyB.stop();
  }
});

test('a second domain whose certificate does not name the advertised name: a config-warning at start, and the far via-trail refuses its requests', async () => {
  const proxyA = await startProxy(await writeTwoDomainConfigA(lab, [], { hosting: false }));
  const proxyB = await startProxy(lab.configs.b);
  try {
    const logs = (): string => `\nproxy A:\n${proxyA.output().slice(-4000)}\nproxy B:\n${proxyB.output().slice(-4000)}`;
    const warning = proxyA.events().find((e) => e.event === 'config-warning' && /Via and Record-Route/.test(String(e.detail)));
    assert.equal(warning?.level, 40, logs());
    const annex = TRAP_OUT_DNS.annex.replace(/\./g, '\\.');
    assert.match(String(warning?.detail), new RegExp(`tls://${TRAP_ADDRESS.a.replace(/\./g, '\\.')}:5061 \\(tls listener\\) advertises a\\.trap\\.test .*certificate of domain ${annex} `), logs());
    // What the warning says happens: erin's request presents the annex certificate with A's name in its Via.
    const refused = await askThroughProxy({ address: TRAP_OUT_DNS_ADDRESS, proxy: TRAP_ADDRESS.a, user: TRAP_ANNEX_USER.name, domain: TRAP_OUT_DNS.annex, password: TRAP_ANNEX_USER.password }, 'OPTIONS', `sip:${TRAP.b}`);
    assert.equal(refused.status, 403, `${showResponse(refused)}${logs()}`);
    assert.match(refused.warnings()[0]?.text ?? '', /^via-sent-by-mismatch: /, showResponse(refused));
  } finally {
    await proxyA.stop();
    await proxyB.stop();
  }
});
