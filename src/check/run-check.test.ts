import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsAnswer, DnsRecordType } from '../dns/records.js';
import type { DnsResolver } from '../dns/resolver.js';
import { TrustStore } from '../tls/trust-store.js';
import { checkDomain, CheckInputError, domainOf } from './run-check.js';

describe('domainOf', () => {
  test('a domain, a sip: or sips: URI give the lower-case domain', () => {
    assert.equal(domainOf('Example.COM.'), 'example.com');
    assert.equal(domainOf('sip:alice@example.com'), 'example.com');
    assert.equal(domainOf('sips:example.com;transport=tcp'), 'example.com');
  });
  test('addresses and junk are refused', () => {
    for (const bad of ['192.0.2.1', 'sip:alice@[2001:db8::1]', 'sips:', 'exa mple.com', '', 'a..b']) {
      assert.throws(() => domainOf(bad), CheckInputError, bad);
    }
  });
});

describe('checkDomain deadline', () => {
  test('a resolver that never answers: the check is cut at its timeout and reported, with the DNS questions asked so far', async () => {
    let asked = 0;
    const silent: DnsResolver = { backend: 'system', query: () => { asked++; return new Promise(() => undefined); }, close: () => Promise.resolve() };
    const report = await checkDomain('hangs.example', { resolver: silent, trustStore: TrustStore.empty(), timeoutMs: 50 });
    assert.equal(report.grade, '?');
    assert.match(report.cutShort ?? '', /no result within 50 ms/);
    assert.equal(asked, 1, 'NAPTR was asked');
    assert.equal(report.dns.complete, false);
    assert.deepEqual(report.dns.lookups, [{ name: 'hangs.example', type: 'NAPTR', state: 'indeterminate', result: 'unanswered', records: [] }]);
    assert.deepEqual(report.findings.map((f) => f.id).sort(), ['check-cut-short', 'dns-no-answer'], 'nothing is called absent');
  });

  test('cut short after some answers: the answered lookups are kept with their results', async () => {
    const resolver: DnsResolver = {
      backend: 'system',
      query: <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => (type === 'NAPTR'
        ? Promise.resolve({ kind: 'nodata', name, type, cnames: [], state: 'insecure', ttlSeconds: 60 } as DnsAnswer<T>)
        : new Promise<DnsAnswer<T>>(() => undefined)),
      close: () => Promise.resolve(),
    };
    const report = await checkDomain('half.example', { resolver, trustStore: TrustStore.empty(), timeoutMs: 50 });
    const results = report.dns.lookups.map((l) => `${l.type} ${l.name} ${l.result}`);
    assert.deepEqual(results, ['NAPTR half.example nodata', 'SRV _sips._tcp.half.example unanswered', 'SRV _sip._tcp.half.example unanswered', 'SRV _sip._udp.half.example unanswered']);
    const found = report.findings.map((f) => f.id);
    assert.ok(!found.includes('tls-not-offered') && !found.includes('srv-missing'), JSON.stringify(found));
    assert.ok(found.includes('naptr-missing'));
  });

  test('an abort from the caller cuts the check short as interrupted', async () => {
    const silent: DnsResolver = { backend: 'system', query: () => new Promise(() => undefined), close: () => Promise.resolve() };
    const controller = new AbortController();
    const pending = checkDomain('hangs.example', { resolver: silent, trustStore: TrustStore.empty(), timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    const report = await pending;
    assert.equal(report.cutShort, 'interrupted');
  });

  test('a check cut short asks no further DNS question (each libunbound question holds a worker thread)', async () => {
    const asked: string[] = [];
    let answerNaptr: (() => void) | undefined;
    const resolver: DnsResolver = {
      backend: 'system',
      query: <T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> => {
        asked.push(`${type} ${name}`);
        return new Promise<DnsAnswer<T>>((resolve) => {
          if (type === 'NAPTR') answerNaptr = () => resolve({ kind: 'nodata', name, type, cnames: [], state: 'insecure', ttlSeconds: 60 });
        });
      },
      close: () => Promise.resolve(),
    };
    const controller = new AbortController();
    const pending = checkDomain('late.example', { resolver, trustStore: TrustStore.empty(), timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    const report = await pending;
    answerNaptr?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(report.cutShort, 'interrupted');
    assert.deepEqual(asked, ['NAPTR late.example']);
  });
});
