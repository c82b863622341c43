import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../src/dns/create-resolver.js';
import type { CachingResolver } from '../../src/dns/resolver.js';
import { LocatingRouter } from '../../src/proxy/outbound-router.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { startTrapezoidLab, TRAP, TRAP_ADDRESS, type TrapezoidLab } from '../support/trapezoid-lab.js';

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
