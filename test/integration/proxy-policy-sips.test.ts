/**
 * sip to sips promotion (issue 15 item 3, seed 000 section 5.3) on a chain of three domains: alice at
 * a.trap.test calls bob@b.trap.test, whose proxy forwards every request for bob to
 * carol@c.trap.test, a third domain (its own `sipsec proxy`). With `promote-sips` off on A the call
 * is an ordinary one and reaches carol, registered at C over UDP. With it on, A sends
 * sips:bob@b.trap.test, B keeps sips when it forwards (RFC 5630), and C refuses to deliver a sips
 * request to a binding over UDP: 480 with the word sips-not-deliverable, which reaches alice through
 * both proxies. carol registered over TLS takes the promoted call.
 *
 * The two configs differ only in A's `promote-sips`, so C's sips-not-deliverable refusal is the
 * evidence that A promoted the Request-URI and B forwarded it as sips: C refuses only a sips request.
 *
 * Addresses of test/support/trapezoid-lab.ts: proxies A .141, B .142, C .143; carol's user agents on
 * .143 ports 5090 and up; alice's SIPp on .144 (its port 5061 is the lab's insecure-domain server).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startBaresip } from '../support/baresip.js';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp, type SippRun } from '../support/sipp.js';
import {
  startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_C, TRAP_C_USERS, TRAP_USERS, writeConfigC, writeConfigWith,
  type RunningProxy, type TrapezoidLab,
} from '../support/trapezoid-lab.js';

const SIPP = path.join(FIXTURES_DIR, 'sipp');
const ALICE = { address: '127.0.0.144', port: 5071 } as const;
const CAROL = { address: TRAP_C.address, port: 5090 } as const;

let lab: TrapezoidLab;
/** A as the lab writes it: promote-sips off (the default). */
let configA: string;
let configAPromoting: string;
/** B with bob forwarded to carol@c.trap.test. */
let configB: string;
let configC: string;

before(async () => {
  lab = await startTrapezoidLab();
  configA = lab.configs.a;
  configAPromoting = await writeConfigWith(lab.configs.a, 'a-promote-sips.yaml', { lines: ['policy:', '  promote-sips: true'] });
  configB = await writeConfigWith(lab.configs.b, 'b-forward.yaml', {
    users: { [`bob@${TRAP.b}`]: `{ password: "${TRAP_USERS.b.bob}", forward: "sip:carol@${TRAP_C.domain}" }` },
  });
  // The request B forwards is alice's: its From domain is a.trap.test, which B's certificate cannot
  // speak for (seed 000 section 5.2); mutual-tls (on by default) would refuse it at C without this.
  configC = await writeConfigC(lab, ['policy:', '  peers:', `    ${TRAP.b}: [ ${TRAP.a} ]`]);
});

after(async () => {
  await lab?.stop();
});

interface Proxies {
  readonly a: RunningProxy;
  readonly b: RunningProxy;
  readonly c: RunningProxy;
  /** The three proxies' recent output, for every failure message. */
  logs(): string;
}

/** Runs `body` with proxies A, B and C started from these configs, and stops them whatever happens. */
async function withProxies(configs: { readonly a: string; readonly b: string; readonly c: string }, body: (proxies: Proxies) => Promise<void>): Promise<void> {
  const started: RunningProxy[] = [];
  try {
    for (const config of [configs.a, configs.b, configs.c]) started.push(await startProxy(config));
    const [a, b, c] = started as [RunningProxy, RunningProxy, RunningProxy];
    const logs = (): string => `\nproxy A:\n${a.output().slice(-3000)}\nproxy B:\n${b.output().slice(-3000)}\nproxy C:\n${c.output().slice(-3000)}`;
    await body({ a, b, c, logs });
  } finally {
    for (const proxy of started) await proxy.stop();
  }
}

function sipp(scenario: string, args: readonly string[]): { done: Promise<SippRun> } {
  return runSipp(['-sf', path.join(SIPP, scenario), '-m', '1', '-timeout', '30s', '-timeout_error', ...args], 40_000);
}

function assertPlayed(run: SippRun, who: string, proxies: Proxies): void {
  assert.equal(run.code, 0, `${who}:\n${run.output.slice(-3000)}${proxies.logs()}`);
}

/** carol registers at C over UDP from CAROL with digest auth; resolves once C logged the binding. */
async function registerCarolOverUdp(proxies: Proxies): Promise<void> {
  const run = await sipp('uac-register.xml', [
    '-i', CAROL.address, '-p', String(CAROL.port), `${TRAP_C.address}:5060`,
    '-s', 'carol', '-au', 'carol', '-ap', TRAP_C_USERS.carol, '-auth_uri', TRAP_C.domain, '-key', 'domain', TRAP_C.domain,
  ]).done;
  assertPlayed(run, 'carol\'s REGISTER at C', proxies);
  // C's location store outlives one test's proxies: carol's second REGISTER refreshes her binding.
  const binding = await proxies.c.waitFor((e) => /^registration-(added|refreshed)$/.test(String(e.event)) && String(e.aor).startsWith('carol@'));
  assert.equal(binding.transport, 'udp', JSON.stringify(binding));
}

/** alice's call to bob@b.trap.test through A, authenticating as alice; `extra` SIPp arguments appended. */
function aliceCallsBob(scenario: string, extra: readonly string[]): { done: Promise<SippRun> } {
  const proxy = `${TRAP_ADDRESS.a}:5060`;
  return sipp(scenario, [
    '-i', ALICE.address, '-p', String(ALICE.port), '-mp', String(ALICE.port + 1000), proxy, '-rsa', proxy,
    '-s', 'bob', '-au', 'alice', '-ap', TRAP_USERS.a.alice, '-auth_uri', `bob@${TRAP.b}`,
    '-key', 'from_user', 'alice', '-key', 'from_domain', TRAP.a, '-key', 'to_domain', TRAP.b,
    ...extra,
  ]);
}

/** The one `proxy-hop-located` line of `proxy` toward `target`, over TLS. */
function assertHopOverTls(proxy: RunningProxy, target: string, proxies: Proxies): void {
  const hops = proxy.events().filter((e) => e.event === 'proxy-hop-located' && e.target === target && e.method === 'INVITE');
  assert.ok(hops.length > 0, `no INVITE hop toward ${target}${proxies.logs()}`);
  for (const hop of hops) assert.ok((hop.destinations as unknown[]).every((d) => String(d).startsWith('tls:')), JSON.stringify(hop));
}

/** The SIP messages SIPp received, from its -message_file (each after a `... message received [N] bytes :` line). */
async function receivedMessages(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text.split(/^-{10,}.*$/m).flatMap((chunk) => {
    const at = /message received \[\d+\] bytes :\s*\n/.exec(chunk);
    return at === null ? [] : [chunk.slice(at.index + at[0].length).trim()];
  });
}

function header(message: string, name: string): string | undefined {
  return new RegExp(`^${name}:[ \\t]*(.*?)\\r?$`, 'mi').exec(message)?.[1];
}

test('promote-sips off: alice calls bob, B forwards to carol@c.trap.test, carol (registered over UDP) answers', async () => {
  await withProxies({ a: configA, b: configB, c: configC }, async (proxies) => {
    await registerCarolOverUdp(proxies);
    const carol = sipp('uas-call.xml', ['-i', CAROL.address, '-p', String(CAROL.port), '-mp', String(CAROL.port + 1000)]);
    const call = await aliceCallsBob('uac-call-auth.xml', ['-d', '200']).done;
    assertPlayed(call, 'alice\'s call to bob (expects 200, then BYE and its 200)', proxies);
    assertPlayed(await carol.done, 'carol\'s answering UAS at C', proxies);
    assertHopOverTls(proxies.a, TRAP.b, proxies);
    assertHopOverTls(proxies.b, TRAP_C.domain, proxies);
    assert.equal(proxies.c.events().some((e) => e.event === 'proxy-request-refused'), false, proxies.logs());
  });
});

test('promote-sips on at A: B forwards sips to C, which refuses (carol has only a UDP binding) with 480 sips-not-deliverable', async () => {
  await withProxies({ a: configAPromoting, b: configB, c: configC }, async (proxies) => {
    await registerCarolOverUdp(proxies);
    const messages = path.join(lab.dir, 'alice-promoted-messages.log');
    const call = await aliceCallsBob('uac-unavailable-auth.xml', ['-trace_msg', '-message_file', messages]).done;
    assertPlayed(call, 'alice\'s promoted call to bob (expects 480)', proxies);
    const final = (await receivedMessages(messages)).filter((m) => m.startsWith('SIP/2.0 480'));
    // A retransmission of the 480 (its ACK late) would be the same response: the first is enough.
    const response = final[0];
    assert.ok(response !== undefined, `no 480 among alice's messages:\n${(await readFile(messages, 'utf8')).slice(-4000)}`);
    const shown = `${response}${proxies.logs()}`;
    assert.match(header(response, 'Warning') ?? '', /^399 \S+ "sips-not-deliverable: /, shown);
    assert.equal(header(response, 'Reason'), 'SIP;cause=480;text="sips-not-deliverable"', shown);
    // RFC 5630 section 5.1.1: the standard warn-code that forbids alice's UA a silent retry as sip.
    assert.match(response, /^Warning:[ \t]*380 \S+ "SIPS Not Allowed"\r?$/m, shown);
    const refused = proxies.c.events().filter((e) => e.event === 'proxy-request-refused' && e.word === 'sips-not-deliverable');
    assert.equal(refused.length, 1, shown);
    assert.equal(refused[0]?.status, 480, shown);
    assert.equal(refused[0]?.method, 'INVITE', shown);
    // The request crossed both inter-domain hops over TLS, promoted at A and kept sips at B.
    assertHopOverTls(proxies.a, TRAP.b, proxies);
    assertHopOverTls(proxies.b, TRAP_C.domain, proxies);
    assert.ok(proxies.a.events().some((e) => e.event === 'proxy-sips-promoted' && e.to === `sips:bob@${TRAP.b}`), shown);
    assert.ok(proxies.b.events().some((e) => e.event === 'proxy-forwarded' && e.from === `sips:bob@${TRAP.b}` && e.to === `sips:carol@${TRAP_C.domain}`), shown);
    // A refused nothing but its digest challenge of alice's first INVITE; B nothing at all.
    const refusedByA = proxies.a.events().filter((e) => e.event === 'proxy-request-refused').map((e) => `${String(e.status)} ${String(e.word)}`);
    assert.deepEqual(refusedByA, ['407 not-authorized'], shown);
    assert.equal(proxies.b.events().some((e) => e.event === 'proxy-request-refused'), false, shown);
  });
});

test('promote-sips on at A: carol registered at C over TLS (baresip) takes the promoted call', async () => {
  await withProxies({ a: configAPromoting, b: configB, c: configC }, async (proxies) => {
    const carol = await startBaresip({
      aor: `carol@${TRAP_C.domain}`, password: TRAP_C_USERS.carol, transport: 'tls',
      outbound: `sip:${TRAP_C.address}:5061;transport=tls`, listen: `${CAROL.address}:${CAROL.port + 1}`, caPem: lab.certs.ca.pem, sipTrace: true,
    });
    const withLogs = (err: unknown): Error => new Error(`${err instanceof Error ? err.message : String(err)}\nbaresip:\n${carol.output().slice(-3000)}${proxies.logs()}`);
    try {
      await carol.waitFor(/carol@c\.trap\.test: \{0\/TLS\/v4\} 200 OK/).catch((err: unknown) => { throw withLogs(err); });
      const binding = await proxies.c.waitFor((e) => e.event === 'registration-added' && String(e.aor).startsWith('carol@'), 5_000)
        .catch((err: unknown) => { throw withLogs(err); });
      assert.equal(binding.transport, 'tls', JSON.stringify(binding));
      const call = await aliceCallsBob('uac-call-auth.xml', ['-d', '500']).done;
      assertPlayed({ ...call, output: `${call.output}\nbaresip:\n${carol.output().slice(-3000)}` }, 'alice\'s promoted call to bob (carol over TLS)', proxies);
      await carol.waitFor(/Call established: sip:alice@a\.trap\.test/).catch((err: unknown) => { throw withLogs(err); });
      // C delivered the INVITE on carol's registration connection, over TLS.
      const invite = new RegExp(`TLS ${TRAP_C.address.replace(/\./g, '\\.')}:5061 -> ${String(binding.remote).replace(/\./g, '\\.')}\r?\nINVITE `);
      assert.match(carol.output(), invite, `the INVITE did not arrive on the registration's connection ${String(binding.remote)}\n${carol.output().slice(-3000)}`);
      assert.equal(proxies.c.events().some((e) => e.event === 'proxy-request-refused'), false, proxies.logs());
    } finally {
      await carol.stop();
    }
  });
});
