/**
 * The DNSSEC policies of the outbound hop (issue 15 item 5, draft-johansson, seed 004) on the
 * trapezoid: `require-dnssec` and `require-dane` off and on, against a secure domain with DANE-EE
 * (a), a secure one without TLSA (b) and an insecure one (insecure.trap.test, 127.0.0.144); and the
 * rules that hold whatever the policies: bogus aborts, a TLSA RRset is never bypassed. Each case
 * asserts the status, the Warning word, the Reason and the proxy's log line.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SipResponse } from '../../src/sip/message.js';
import { askThroughProxy, showResponse } from '../support/trapezoid-ua.js';
import {
  startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_OUT_DNS, TRAP_OUT_DNS_ADDRESS, TRAP_USERS, withConfigLines,
  type RunningProxy, type TrapezoidLab,
} from '../support/trapezoid-lab.js';

let lab: TrapezoidLab;

before(async () => {
  lab = await startTrapezoidLab();
});

after(async () => {
  await lab?.stop();
});

/** Runs `body` with the proxies started from these configs, and stops them whatever happens. */
async function withProxies(configs: readonly string[], body: (proxies: RunningProxy[]) => Promise<void>): Promise<void> {
  const proxies: RunningProxy[] = [];
  try {
    for (const config of configs) proxies.push(await startProxy(config));
    await body(proxies);
  } finally {
    for (const proxy of proxies) await proxy.stop();
  }
}

const alice = { address: TRAP_OUT_DNS_ADDRESS, proxy: TRAP_ADDRESS.a, user: 'alice', domain: TRAP.a, password: TRAP_USERS.a.alice };
const bob = { address: TRAP_OUT_DNS_ADDRESS, proxy: TRAP_ADDRESS.b, user: 'bob', domain: TRAP.b, password: TRAP_USERS.b.bob };

function policy(lines: string): string[] {
  return ['policy:', ...lines.split(';').map((l) => `  ${l.trim()}`)];
}

/** The one `proxy-hop-located` line for `target` (the located hop and the rule its server is verified by). */
function located(proxy: RunningProxy, target: string): Record<string, unknown> {
  const lines = proxy.events().filter((e) => e.event === 'proxy-hop-located' && e.target === target);
  assert.equal(lines.length, 1, proxy.output().slice(-3000));
  return lines[0] as Record<string, unknown>;
}

/** A refusal by the outbound hop: 500 (a 503 branch final, section 16.7 step 6), the word in Warning and Reason, the policy line. */
function assertRefused(response: SipResponse, proxy: RunningProxy, word: string, target: string, detail: RegExp): void {
  const shown = `${showResponse(response)}\n${proxy.output().slice(-3000)}`;
  assert.equal(response.status, 500, shown);
  assert.match(response.header('warning') ?? '', new RegExp(`^399 \\S+ "${word}: `), shown);
  assert.match(response.header('warning') ?? '', detail, shown);
  assert.equal(response.header('reason'), `SIP;cause=503;text="${word}"`, shown);
  const refused = proxy.events().filter((e) => e.event === 'policy-refused' && e.word === word && e.target === target);
  assert.equal(refused.length, 1, shown);
  assert.equal(refused[0]?.level, 40, shown); // warn
  assert.equal(refused[0]?.status, 500, shown);
  // Logged once: the branch that ends on it adds no `proxy-no-destination` line of its own.
  assert.equal(proxy.events().some((e) => e.event === 'proxy-no-destination' && e.word === word), false, shown);
  // Refused before anything was sent: no connection was even tried toward the target.
  assert.equal(proxy.events().some((e) => e.event === 'proxy-hop-located' && e.target === target), false, shown);
}

test('require-dnssec off (the default): an insecure domain is reached, its server verified by RFC 5922', async () => {
  await withProxies([lab.configs.a], async ([proxyA]) => {
    const a = proxyA as RunningProxy;
    const response = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP_OUT_DNS.insecure}`);
    assert.equal(response.status, 200, `${showResponse(response)}\n${a.output().slice(-3000)}`);
    const line = located(a, TRAP_OUT_DNS.insecure);
    assert.deepEqual([line.rule, line.dnssec, line.require, line.destinations], ['rfc5922', 'insecure', 'none', [`tls:${TRAP_OUT_DNS_ADDRESS}:5061`]]);
    const connected = a.events().find((e) => e.event === 'tls-connected' && String(e.remote).startsWith(TRAP_OUT_DNS_ADDRESS));
    assert.equal(connected?.reason, 'rfc5922', a.output().slice(-3000));
  });
});

test('require-dnssec on: the insecure domain is refused at once with dnssec-required; a secure one still passes', async () => {
  const config = await withConfigLines(lab.configs.a, 'a-require-dnssec.yaml', policy('require-dnssec: true'));
  await withProxies([config, lab.configs.b], async ([proxyA]) => {
    const a = proxyA as RunningProxy;
    const refused = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP_OUT_DNS.insecure}`);
    assertRefused(refused, a, 'dnssec-required', TRAP_OUT_DNS.insecure, /the DNS chain of insecure\.trap\.test is not DNSSEC-secure/);
    assert.equal(a.events().some((e) => e.event === 'tls-connected' && String(e.remote).startsWith(TRAP_OUT_DNS_ADDRESS)), false);
    const passed = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP.b}`);
    assert.equal(passed.status, 200, `${showResponse(passed)}\n${a.output().slice(-3000)}`);
    const line = located(a, TRAP.b);
    assert.deepEqual([line.rule, line.dnssec, line.require], ['rfc5922', 'secure', 'dnssec']);
  });
});

test('require-dane on: a secure domain without TLSA is refused with dane-required; a DANE-EE domain passes by DANE', async () => {
  const configA = await withConfigLines(lab.configs.a, 'a-require-dane.yaml', policy('require-dane: true'));
  const configB = await withConfigLines(lab.configs.b, 'b-require-dane.yaml', policy('require-dane: true'));
  await withProxies([configA, configB], async ([proxyA, proxyB]) => {
    const a = proxyA as RunningProxy;
    const b = proxyB as RunningProxy;
    const refused = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP.b}`);
    assertRefused(refused, a, 'dane-required', TRAP.b, /b\.trap\.test has no usable TLSA RRset \(no TLSA at _5061\._tcp\.sip\.b\.trap\.test/);
    const passed = await askThroughProxy(bob, 'OPTIONS', `sip:${TRAP.a}`);
    assert.equal(passed.status, 200, `${showResponse(passed)}\n${b.output().slice(-3000)}`);
    const line = located(b, TRAP.a);
    assert.deepEqual([line.rule, line.dnssec, line.require], ['dane', 'secure', 'dane']);
    const connected = b.events().find((e) => e.event === 'tls-connected' && String(e.remote).startsWith(TRAP_ADDRESS.a));
    assert.equal(connected?.reason, 'dane', b.output().slice(-3000));
    assert.deepEqual(a.events().filter((e) => e.event === 'policy-refused').map((e) => e.word), ['dane-required']);
    // Counted with its word and status: the totals are in the proxy-stopped line.
    await a.stop();
    const stopped = a.events().find((e) => e.event === 'proxy-stopped');
    const counted = stopped?.counted as Record<string, number> | undefined;
    assert.equal(counted?.['sipsec_proxy_refusals_total{word=dane-required,status=500}'], 1, a.output().slice(-3000));
  });
});

test('whatever the policies: a TLSA RRset is never bypassed (no PKIX fallback) and a bogus chain aborts', async () => {
  await withProxies([lab.configs.a], async ([proxyA]) => {
    const a = proxyA as RunningProxy;
    // The server's certificate is valid under the lab CA: RFC 5922 would accept it; its TLSA does not match.
    const mismatch = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP.daneMismatch}`);
    const shown = `${showResponse(mismatch)}\n${a.output().slice(-3000)}`;
    assert.equal(mismatch.status, 500, shown);
    assert.match(mismatch.header('warning') ?? '', /"peer-not-authenticated: .*dane-no-match/, shown);
    const line = located(a, TRAP.daneMismatch);
    assert.deepEqual([line.rule, line.dnssec, line.require], ['dane', 'secure', 'none']);
    const failed = a.events().find((e) => e.event === 'proxy-hop-failed' && e.target === TRAP.daneMismatch);
    assert.ok(Array.isArray(failed?.verdict) && failed.verdict.includes('dane-no-match'), shown);

    const bogus = await askThroughProxy(alice, 'OPTIONS', `sip:${TRAP.bogus}`);
    const shownBogus = `${showResponse(bogus)}\n${a.output().slice(-3000)}`;
    assert.equal(bogus.status, 500, shownBogus);
    assert.match(bogus.header('warning') ?? '', /"dnssec-bogus: /, shownBogus);
    assert.equal(bogus.header('reason'), 'SIP;cause=503;text="dnssec-bogus"', shownBogus);
    assert.equal(a.events().some((e) => e.event === 'proxy-hop-located' && e.target === TRAP.bogus), false, shownBogus);
  });
});
