import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDnsName, normalizeName, reverseName } from './dns-name.js';

test('names are lowercase without the trailing dot', () => {
  assert.equal(normalizeName('SIP.Example.COM.'), 'sip.example.com');
  assert.equal(checkDnsName('_sips._tcp.Example.com'), '_sips._tcp.example.com');
});

test('bad names are refused with DNS_ERR_BAD_NAME', () => {
  for (const name of ['', '.', 'a..b', `${'a'.repeat(64)}.com`, `${'abcdefghi.'.repeat(26)}com`, 'sp ace.com']) {
    assert.throws(() => checkDnsName(name), { code: 'DNS_ERR_BAD_NAME' }, name);
  }
  assert.equal(checkDnsName(`${'a'.repeat(63)}.com`).length, 67);
});

test('reverse names (RFC 1035 section 3.5, RFC 3596 section 2.5)', () => {
  assert.equal(reverseName('192.0.2.10', 4), '10.2.0.192.in-addr.arpa');
  assert.equal(reverseName('2001:db8::567:89ab', 6), 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(reverseName('::1', 6), `1.${'0.'.repeat(31)}ip6.arpa`);
});
