import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnssecState } from '../dns/dnssec-state.js';
import type { TlsaRrset } from '../dns/tlsa-record.js';
import type { LocatedDestination } from '../ua/destinations.js';
import { applyDnssecPolicies, hasUsableTlsa, hopRule } from './outbound-router.js';

/** A located TLS destination with the DNSSEC state of its chain and, optionally, its TLSA RRset. */
function located(address: string, dnssec: DnssecState, tlsa?: Partial<TlsaRrset>): LocatedDestination {
  const rrset: TlsaRrset | undefined = tlsa === undefined ? undefined : { name: `_5061._tcp.${address}`, state: 'secure', records: [], ...tlsa };
  return {
    destination: { transport: 'tls', address, port: 5061, tlsTarget: { sipDomain: 'far.test', dnsState: dnssec, ...(rrset !== undefined ? { tlsa: rrset } : {}) } },
    located: {
      transport: 'tls', address, family: 4, port: 5061, dnssec, identities: ['far.test'], hostName: 'sip.far.test',
      lookups: [{ name: 'far.test', type: 'NAPTR', state: dnssec, result: 'records' }],
    },
  };
}

const DANE_EE = { usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32) };
const UNKNOWN_USAGE = { usage: 9, selector: 1, matchingType: 1, data: new Uint8Array(32) };
const OFF = { dnssec: false, dane: false };

test('hopRule: dane over a secure chain with a secure RRset that has records, none when anything is bogus, else rfc5922', () => {
  assert.equal(hopRule(located('192.0.2.1', 'secure', { records: [DANE_EE] })), 'dane');
  // Records DANE cannot use still mean DANE: the verifier fails the hop rather than fall back.
  assert.equal(hopRule(located('192.0.2.1', 'secure', { records: [UNKNOWN_USAGE] })), 'dane');
  assert.equal(hopRule(located('192.0.2.1', 'secure', { records: [] })), 'rfc5922');
  assert.equal(hopRule(located('192.0.2.1', 'secure')), 'rfc5922');
  assert.equal(hopRule(located('192.0.2.1', 'insecure', { state: 'insecure', records: [DANE_EE] })), 'rfc5922');
  assert.equal(hopRule(located('192.0.2.1', 'bogus')), 'none');
  assert.equal(hopRule(located('192.0.2.1', 'secure', { state: 'bogus' })), 'none');
  assert.equal(hopRule(located('192.0.2.1', 'secure', { state: 'indeterminate' })), 'none');
});

test('hasUsableTlsa: a secure chain, a secure RRset, one record sipsec can use', () => {
  assert.equal(hasUsableTlsa(located('192.0.2.1', 'secure', { records: [DANE_EE] })), true);
  assert.equal(hasUsableTlsa(located('192.0.2.1', 'secure', { records: [UNKNOWN_USAGE] })), false);
  assert.equal(hasUsableTlsa(located('192.0.2.1', 'insecure', { records: [DANE_EE] })), false);
  assert.equal(hasUsableTlsa(located('192.0.2.1', 'secure', { state: 'insecure', records: [DANE_EE] })), false);
});

test('with the policies off every destination is kept', () => {
  const all = [located('192.0.2.1', 'insecure'), located('192.0.2.2', 'secure')];
  assert.deepEqual(applyDnssecPolicies('far.test', all, OFF), { kept: all });
});

test('require-dnssec keeps the secure destinations in their order, and refuses only when none is left', () => {
  const insecure = located('192.0.2.1', 'insecure');
  const secure = located('192.0.2.2', 'secure');
  assert.deepEqual(applyDnssecPolicies('far.test', [insecure, secure], { dnssec: true, dane: false }).kept, [secure]);
  const refused = applyDnssecPolicies('far.test', [insecure], { dnssec: true, dane: false });
  assert.deepEqual(refused, { kept: [], refusal: { word: 'dnssec-required', detail: 'the DNS chain of far.test is not DNSSEC-secure (NAPTR far.test is insecure)' } });
});

test('require-dane keeps the destinations with a usable RRset, and names what the first one lacked', () => {
  const dane = located('192.0.2.3', 'secure', { records: [DANE_EE] });
  assert.deepEqual(applyDnssecPolicies('far.test', [located('192.0.2.2', 'secure'), dane], { dnssec: false, dane: true }).kept, [dane]);
  const detail = (d: LocatedDestination): string | undefined => applyDnssecPolicies('far.test', [d], { dnssec: false, dane: true }).refusal?.detail;
  assert.equal(detail(located('192.0.2.2', 'secure')), 'far.test has no usable TLSA RRset (no TLSA at _5061._tcp.sip.far.test)');
  assert.equal(detail(located('192.0.2.2', 'secure', { records: [UNKNOWN_USAGE] })), 'far.test has no usable TLSA RRset (no usable record in TLSA _5061._tcp.192.0.2.2)');
  assert.equal(detail(located('192.0.2.2', 'insecure')), 'far.test has no usable TLSA RRset (the DNS chain is insecure)');
  assert.equal(detail(located('192.0.2.2', 'secure', { state: 'insecure', records: [DANE_EE] })), 'far.test has no usable TLSA RRset (TLSA _5061._tcp.192.0.2.2 is insecure)');
  // Both on: an insecure chain is refused by require-dnssec first.
  assert.equal(applyDnssecPolicies('far.test', [located('192.0.2.2', 'insecure')], { dnssec: true, dane: true }).refusal?.word, 'dnssec-required');
});

test('no destination at all is no refusal: the locator\'s own failure (bogus, nothing found) says why', () => {
  assert.deepEqual(applyDnssecPolicies('far.test', [], { dnssec: true, dane: true }), { kept: [] });
});
