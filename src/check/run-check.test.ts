import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
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
    assert.equal(report.grade, 'F');
    assert.match(report.cutShort ?? '', /no result within 50 ms/);
    assert.ok(report.findings.some((f) => f.id === 'check-cut-short'));
    assert.equal(asked, 1, 'NAPTR was asked');
  });

  test('an abort from the caller cuts the check short as interrupted', async () => {
    const silent: DnsResolver = { backend: 'system', query: () => new Promise(() => undefined), close: () => Promise.resolve() };
    const controller = new AbortController();
    const pending = checkDomain('hangs.example', { resolver: silent, trustStore: TrustStore.empty(), timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    const report = await pending;
    assert.equal(report.cutShort, 'interrupted');
  });
});
