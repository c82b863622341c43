import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { answerFromMessage, decodeMessage } from './dns-message.js';

// Messages a real server rarely sends (a CNAME loop) or whose arithmetic is worth pinning down
// (RFC 2308 negative TTL), built as bytes and decoded as the backends do.
function message(packet: dnsPacket.Packet): ReturnType<typeof decodeMessage> {
  return decodeMessage(dnsPacket.encode({ type: 'response', id: 1, ...packet }));
}

test('negative TTL is the smaller of the SOA TTL and its MINIMUM (RFC 2308 section 5)', () => {
  const soa = (ttl: number, minimum: number): dnsPacket.Answer => ({
    type: 'SOA', name: 'example.com', ttl,
    data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
  });
  const a = message({ flags: 3, questions: [{ type: 'A', name: 'x.example.com' }], authorities: [soa(900, 60)] });
  assert.ok(a);
  const nx = answerFromMessage(a, 'x.example.com', 'A', 'secure');
  assert.equal(nx.kind, 'nxdomain');
  assert.equal(nx.kind === 'nxdomain' && nx.ttlSeconds, 60);
  const b = message({ questions: [{ type: 'A', name: 'x.example.com' }], authorities: [soa(30, 600)] });
  assert.ok(b);
  const nodata = answerFromMessage(b, 'x.example.com', 'A', 'insecure');
  assert.equal(nodata.kind, 'nodata');
  assert.equal(nodata.kind === 'nodata' && nodata.ttlSeconds, 30);
});

test('a CNAME loop is a failure, not a denial', () => {
  const m = message({
    questions: [{ type: 'A', name: 'a.example.com' }],
    answers: [
      { type: 'CNAME', name: 'a.example.com', ttl: 60, data: 'b.example.com' },
      { type: 'CNAME', name: 'b.example.com', ttl: 60, data: 'a.example.com' },
    ],
  });
  assert.ok(m);
  const answer = answerFromMessage(m, 'a.example.com', 'A', 'secure');
  assert.equal(answer.kind, 'failure');
  assert.equal(answer.kind === 'failure' && answer.failure, 'cname-chain-too-long');
  assert.equal(answer.state, 'indeterminate');
});

test('records at the end of the chain; the TTL is the smallest along the chain', () => {
  const m = message({
    questions: [{ type: 'A', name: 'www.example.com' }],
    answers: [
      { type: 'CNAME', name: 'www.example.com', ttl: 40, data: 'Host.Example.net' },
      { type: 'A', name: 'host.example.net', ttl: 300, data: '192.0.2.7' },
      { type: 'A', name: 'unrelated.example.net', ttl: 300, data: '192.0.2.8' },
    ],
  });
  assert.ok(m);
  const answer = answerFromMessage(m, 'www.example.com', 'A', 'secure');
  assert.deepEqual(answer.kind === 'records' && answer.records, [{ address: '192.0.2.7' }]);
  assert.equal(answer.kind === 'records' && answer.ttlSeconds, 40);
  assert.deepEqual(answer.cnames, [{ from: 'www.example.com', to: 'host.example.net' }]);
});

test('garbage is not a message', () => {
  assert.equal(decodeMessage(new Uint8Array([1, 2, 3])), undefined);
});
