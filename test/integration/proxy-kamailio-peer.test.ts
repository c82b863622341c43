/**
 * Debian's Kamailio 5.6 as the proxy of the other domain (issue 15 item 7): `sipsec proxy` A for
 * a.trap.test and Kamailio for k.trap.test (test/support/trapezoid-lab.ts, 127.0.0.145), calls in
 * both directions over mutual TLS with each side verifying the other, SIPp user agents over UDP
 * (all on 127.0.0.145: alice's at A on 5080 and 5081, k's on 5090 and 5091).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, issueCertificate } from '../../src/lab/certificates.js';
import type { RunningKamailioPeer } from '../../src/lab/kamailio.js';
import { runCli } from '../../src/cli/run-cli.js';
import { FIXTURES_DIR } from '../support/paths.js';
import { runSipp, type SippRun } from '../support/sipp.js';
import {
  KAMAILIO_ADDRESS, KAMAILIO_DOMAIN, KAMAILIO_USERS, startKamailioOfK, startProxy, startTrapezoidLab, TRAP, TRAP_ADDRESS, TRAP_USERS,
  type RunningProxy, type TrapezoidLab,
} from '../support/trapezoid-lab.js';

const SIPP = path.join(FIXTURES_DIR, 'sipp');
const ALICE_UAS_PORT = 5080;
const ALICE_UAC_PORT = 5081;
const K_UAC_PORT = 5091;

let lab: TrapezoidLab;
let proxyA: RunningProxy;

before(async () => {
  lab = await startTrapezoidLab();
  proxyA = await startProxy(lab.configs.a);
});

after(async () => {
  await proxyA?.stop();
  await lab?.stop();
});

/** Kamailio for one test, stopped (with its workers) when the test ends. */
async function kamailioFor(t: { after: (fn: () => Promise<void>) => void }, advertisedName?: string): Promise<RunningKamailioPeer> {
  const kamailio = await startKamailioOfK(lab, advertisedName !== undefined ? { advertisedName } : {});
  t.after(() => kamailio.stop());
  return kamailio;
}

function logs(kamailio: RunningKamailioPeer): string {
  return `\nproxy A:\n${proxyA.output().slice(-4000)}\nKamailio:\n${kamailio.output().slice(-4000)}`;
}

function sippArgs(scenario: string, args: readonly string[]): string[] {
  return ['-sf', path.join(SIPP, scenario), '-m', '1', '-timeout', '30s', '-timeout_error', ...args];
}

function callee(port: number): { done: Promise<SippRun> } {
  return runSipp(sippArgs('uas-call.xml', ['-i', KAMAILIO_ADDRESS, '-p', String(port), '-mp', String(port + 1000)]), 40_000);
}

/** kate's SIPp caller at k.trap.test calls alice@a.trap.test through Kamailio (INVITE, 200, ACK, BYE, 200). */
function kateCallsAlice(kamailio: RunningKamailioPeer): Promise<SippRun> {
  const kamailioUdp = `${KAMAILIO_ADDRESS}:${kamailio.udpPort}`;
  return runSipp(sippArgs('uac-call.xml', [
    '-i', KAMAILIO_ADDRESS, '-p', String(K_UAC_PORT), '-mp', String(K_UAC_PORT + 1000), kamailioUdp, '-rsa', kamailioUdp, '-d', '200',
    '-s', 'alice', '-key', 'from_user', 'kate', '-key', 'from_domain', KAMAILIO_DOMAIN, '-key', 'to_domain', TRAP.a,
  ]), 40_000).done;
}

function assertPlayed(run: SippRun, who: string, kamailio: RunningKamailioPeer): void {
  assert.equal(run.code, 0, `${who}:\n${run.output.slice(-3000)}${logs(kamailio)}`);
}

/** Kamailio's `sipsec-lab:` lines (kamailio.ts): one per request and reply over TLS. */
function labLines(kamailio: RunningKamailioPeer): string[] {
  return kamailio.output().split('\n').filter((line) => line.includes('sipsec-lab: '));
}

test('alice at a.trap.test calls kate at k.trap.test: A verifies Kamailio as k.trap.test, Kamailio verifies A\'s client certificate; 200 and BYE', async (t) => {
  const kamailio = await kamailioFor(t, KAMAILIO_DOMAIN);
  const kate = callee(KAMAILIO_USERS.kate);
  const proxy = `${TRAP_ADDRESS.a}:5060`;
  const call = await runSipp(sippArgs('uac-call-auth.xml', [
    '-i', KAMAILIO_ADDRESS, '-p', String(ALICE_UAC_PORT), '-mp', String(ALICE_UAC_PORT + 1000), proxy, '-rsa', proxy, '-d', '200',
    '-s', 'kate', '-au', 'alice', '-ap', TRAP_USERS.a.alice, '-auth_uri', `kate@${KAMAILIO_DOMAIN}`,
    '-key', 'from_user', 'alice', '-key', 'from_domain', TRAP.a, '-key', 'to_domain', KAMAILIO_DOMAIN,
  ]), 40_000).done;
  assertPlayed(call, 'alice\'s call to kate (INVITE, 407, INVITE, 200, ACK, BYE, 200)', kamailio);
  assertPlayed(await kate.done, 'kate\'s UAS behind Kamailio', kamailio);

  // A located k.trap.test by NAPTR/SRV in the signed zone and verified Kamailio's certificate
  // for it (RFC 5922: no TLSA for k).
  const connected = proxyA.events().find((e) => e.event === 'tls-connected' && e.remote === `${KAMAILIO_ADDRESS}:5061`);
  assert.equal(connected?.reason, 'rfc5922', logs(kamailio));
  assert.match(String(connected?.detail), /^k\.trap\.test as k\.trap\.test; identities .*k\.trap\.test/, logs(kamailio));
  // Kamailio required A's client certificate and verified it against the lab's CA: the INVITE and
  // the BYE arrived over TLS from A with a verified certificate naming a.trap.test.
  for (const method of ['INVITE', 'BYE']) {
    // From A's connection (its source address is the kernel's choice, 127.0.0.1 on loopback).
    const line = labLines(kamailio).find((l) => l.includes(`sipsec-lab: ${method} from `));
    assert.match(line ?? '', /over TLS, client certificate verified=1 name=a\.trap\.test$/, `${method}${logs(kamailio)}`);
  }
});

test('kate at k.trap.test calls alice registered at a.trap.test: Kamailio connects with its client certificate, A authenticates it as k.trap.test; 200 and BYE', async (t) => {
  const kamailio = await kamailioFor(t, KAMAILIO_DOMAIN);
  const register = await runSipp(sippArgs('uac-register.xml', [
    '-i', KAMAILIO_ADDRESS, '-p', String(ALICE_UAS_PORT), `${TRAP_ADDRESS.a}:5060`,
    '-s', 'alice', '-au', 'alice', '-ap', TRAP_USERS.a.alice, '-auth_uri', TRAP.a, '-key', 'domain', TRAP.a,
  ]), 40_000).done;
  assertPlayed(register, 'alice\'s REGISTER at A', kamailio);
  await proxyA.waitFor((e) => /^registration-(added|refreshed)$/.test(String(e.event)) && e.remote === `${KAMAILIO_ADDRESS}:${ALICE_UAS_PORT}`);
  const alice = callee(ALICE_UAS_PORT);
  const call = await kateCallsAlice(kamailio);
  assertPlayed(call, 'kate\'s call to alice (INVITE, 200, ACK, BYE, 200)', kamailio);
  assertPlayed(await alice.done, 'alice\'s UAS registered at A', kamailio);

  // A accepted Kamailio's connection with a client certificate verified for k.trap.test.
  const accepted = proxyA.events().find((e) => e.event === 'tls-accepted' && String(e.remote).startsWith(`${KAMAILIO_ADDRESS}:`));
  assert.equal(accepted?.reason, 'client-authenticated', logs(kamailio));
  assert.match(String(accepted?.detail), /^identities .*\bk\.trap\.test\b/, logs(kamailio));
  // Kamailio's side of the same hop: A's answers came over a connection whose server certificate
  // it verified (the chain; Kamailio 5.6 does not match the name, it only shows it), and they echo
  // the Via Kamailio sent, with its name, not its address.
  const reply = labLines(kamailio).find((l) => l.includes(`sipsec-lab: reply 200 INVITE from ${TRAP_ADDRESS.a}:5061`));
  assert.match(reply ?? '', /over TLS, server certificate verified=1 name=a\.trap\.test, our Via SIP\/2\.0\/TLS k\.trap\.test:5061;branch=/, logs(kamailio));
});

interface OptionsJson {
  response: { status: number } | null;
  tls: { authenticated: boolean; matchedIdentity: string | null } | null;
}

test('Kamailio requires and verifies sipsec\'s client certificate: A\'s is accepted, none or one from another CA is refused', async (t) => {
  const kamailio = await kamailioFor(t, KAMAILIO_DOMAIN);
  const stranger = issueCertificate({ cn: 'stranger CA', ca: true });
  const forged = issueCertificate({ cn: `sip.${TRAP.a}`, issuer: stranger, san: { dns: [TRAP.a], uri: [`sip:${TRAP.a}`] }, eku: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] });
  const forgedFiles = { cert: path.join(lab.dir, 'forged-a.pem'), key: path.join(lab.dir, 'forged-a.key') };
  await writeFile(forgedFiles.cert, forged.pem);
  await writeFile(forgedFiles.key, forged.keyPem, { mode: 0o600 });
  const options = async (client: readonly string[]): Promise<{ code: number; result: OptionsJson; text: string }> => {
    const out: string[] = [];
    const code = await runCli(['options', '--json', '--ca', lab.caPem, ...client, '--timeout', '10000', '--to', `${KAMAILIO_ADDRESS}:${kamailio.tlsPort}`, `sips:${KAMAILIO_DOMAIN}`], {
      stdout: (text) => void out.push(text),
      stderr: (text) => void out.push(text),
    });
    return { code, result: JSON.parse(out.join('')) as OptionsJson, text: `${out.join('')}${logs(kamailio)}` };
  };

  const withA = await options(['--cert', path.join(lab.dir, 'a.pem'), '--key', path.join(lab.dir, 'a.key')]);
  assert.equal(withA.code, 0, withA.text);
  assert.equal(withA.result.response?.status, 200, withA.text);
  assert.equal(withA.result.tls?.authenticated, true, withA.text);
  assert.equal(withA.result.tls?.matchedIdentity, KAMAILIO_DOMAIN, withA.text);

  // Refused at the handshake (or the connection cut right after it, TLS 1.3): no answer, exit 3.
  for (const [what, client] of [['no client certificate', []], ['a certificate for a.trap.test from another CA', ['--cert', forgedFiles.cert, '--key', forgedFiles.key]]] as const) {
    const refused = await options(client);
    assert.equal(refused.code, 3, `${what}: ${refused.text}`);
    assert.equal(refused.result.response?.status, 503, `${what}: ${refused.text}`);
  }
});

test('via-trail: Kamailio with its default Via (an IP address) is refused by A with 403 via-sent-by-mismatch; with its name advertised the same call passes', async (t) => {
  const register = await runSipp(sippArgs('uac-register.xml', [
    '-i', KAMAILIO_ADDRESS, '-p', String(ALICE_UAS_PORT), `${TRAP_ADDRESS.a}:5060`,
    '-s', 'alice', '-au', 'alice', '-ap', TRAP_USERS.a.alice, '-auth_uri', TRAP.a, '-key', 'domain', TRAP.a,
  ]), 40_000).done;
  assert.equal(register.code, 0, register.output.slice(-3000));

  // Kamailio as Debian ships it: the Via it adds names its address, which no certificate covers.
  const plain = await kamailioFor(t);
  const trace = path.join(lab.dir, 'kate-refused-messages.log');
  const kamailioUdp = `${KAMAILIO_ADDRESS}:${plain.udpPort}`;
  const refused = await runSipp([...sippArgs('uac-forbidden.xml', [
    '-i', KAMAILIO_ADDRESS, '-p', String(K_UAC_PORT), kamailioUdp, '-rsa', kamailioUdp,
    '-s', 'alice', '-key', 'from_user', 'kate', '-key', 'from_domain', KAMAILIO_DOMAIN, '-key', 'to_domain', TRAP.a,
  ]), '-trace_msg', '-message_file', trace], 40_000).done;
  assert.equal(refused.code, 0, `kate's INVITE refused with 403:\n${refused.output.slice(-3000)}${logs(plain)}`);
  // The 403 that reached kate through Kamailio names the check in its Warning and Reason.
  const messages = await readFile(trace, 'utf8');
  const forbidden = messages.slice(messages.indexOf('SIP/2.0 403'));
  assert.match(forbidden, /^Warning: 399 a\.trap\.test:5061 "via-sent-by-mismatch: [^"]*"/m, messages);
  assert.match(forbidden, /^Reason: SIP;cause=403;text="via-sent-by-mismatch"/m, messages);
  // A's log has the evidence: Kamailio's Via with its address, and the identities of its certificate.
  const line = proxyA.events().find((e) => e.event === 'policy-refused' && e.word === 'via-sent-by-mismatch');
  assert.ok(line !== undefined, logs(plain));
  assert.match(JSON.stringify(line), new RegExp(`SIP/2\\.0/TLS ${KAMAILIO_ADDRESS.replace(/\./g, '\\.')}`), JSON.stringify(line));
  assert.match(JSON.stringify(line), /k\.trap\.test/, JSON.stringify(line));
  await plain.stop();

  // The same call with `advertise k.trap.test`: the Via names what the certificate covers.
  const named = await kamailioFor(t, KAMAILIO_DOMAIN);
  const alice = callee(ALICE_UAS_PORT);
  const call = await kateCallsAlice(named);
  assertPlayed(call, 'kate\'s call to alice with Kamailio\'s name advertised', named);
  assertPlayed(await alice.done, 'alice\'s UAS registered at A', named);
});
