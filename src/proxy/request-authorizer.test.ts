import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuthenticator } from '../registrar/digest.js';
import { parseUsersFile } from '../registrar/users.js';
import type { SipRequest } from '../sip/message.js';
import { answerChallenge, requestFrom } from './register-client.test.support.js';
import { contextFor } from './register-harness.test.support.js';
import { domainOf } from './registrar-service.js';
import { DigestRequestAuthorizer } from './request-authorizer.js';

const USERS = parseUsersFile('bob@b.test: { password: "secret" }\nalice@b.test: { password: "wonder" }\n', 'users.yaml').users;
const CONTEXT = contextFor({ transport: 'tcp', remote: { address: '192.0.2.4', port: 40_000 } });

function authorizer(): DigestRequestAuthorizer {
  return new DigestRequestAuthorizer({
    users: USERS,
    authenticator: new DigestAuthenticator({ secret: Buffer.from('request-authorizer-test-secret!!') }),
    localDomains: { isLocal: (h) => domainOf(h) === 'b.test' },
  });
}

let n = 0;
function invite(from: string, proxyAuthorization?: string): SipRequest {
  return requestFrom([
    'INVITE sip:carol@c.test SIP/2.0',
    `Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bK-auth-${++n}`,
    'Max-Forwards: 70',
    'To: <sip:carol@c.test>',
    `From: <sip:${from}>;tag=a${n}`,
    `Call-ID: auth-${n}@192.0.2.4`,
    `CSeq: ${n} INVITE`,
    ...(proxyAuthorization === undefined ? [] : [`Proxy-Authorization: ${proxyAuthorization}`]),
  ]);
}

/** Asks, answers the 407 as `user` with `password`, and asks again with the credentials. */
function challengeAndAnswer(a: DigestRequestAuthorizer, from: string, user: string, password: string, pick = 0): ReturnType<DigestRequestAuthorizer['authorize']> {
  const first = a.authorize(invite(from), CONTEXT);
  assert.equal(first.kind, 'refused');
  if (first.kind !== 'refused') throw new Error('not refused');
  const challenge = first.response.headers[pick]?.value ?? '';
  return a.authorize(invite(from, answerChallenge(challenge, { method: 'INVITE', uri: 'sip:carol@c.test' }, user, password)), CONTEXT);
}

test('a request from a local user for another domain without Proxy-Authorization: 407 with Proxy-Authenticate in the From realm, SHA-256 then MD5', () => {
  const outcome = authorizer().authorize(invite('bob@b.test'), CONTEXT);
  assert.equal(outcome.kind, 'refused');
  if (outcome.kind !== 'refused') return;
  assert.equal(outcome.response.status, 407);
  assert.deepEqual(outcome.response.headers.map((h) => h.name), ['Proxy-Authenticate', 'Proxy-Authenticate']);
  assert.match(outcome.response.headers[0]?.value ?? '', /realm="b\.test".*algorithm=SHA-256/);
  assert.match(outcome.response.headers[1]?.value ?? '', /realm="b\.test".*algorithm=MD5/);
});

test('valid credentials (SHA-256 or MD5) authorize the From user; a wrong password is challenged again', () => {
  const a = authorizer();
  assert.deepEqual(challengeAndAnswer(a, 'bob@b.test', 'bob', 'secret', 0), { kind: 'authorized', user: 'bob@b.test' });
  assert.deepEqual(challengeAndAnswer(a, 'bob@b.test', 'bob', 'secret', 1), { kind: 'authorized', user: 'bob@b.test' });
  const wrong = challengeAndAnswer(a, 'bob@b.test', 'bob', 'guess');
  assert.equal(wrong.kind === 'refused' && wrong.response.status, 407);
});

test("one user's credentials do not send in another's name: 403", () => {
  const outcome = challengeAndAnswer(authorizer(), 'bob@b.test', 'alice', 'wonder');
  assert.equal(outcome.kind === 'refused' && outcome.response.status, 403);
});

test('a From that is not of a local domain is 403, never challenged', () => {
  const outcome = authorizer().authorize(invite('mallory@evil.test'), CONTEXT);
  assert.equal(outcome.kind === 'refused' && outcome.response.status, 403);
});
