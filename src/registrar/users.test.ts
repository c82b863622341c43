import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHa1 } from './digest.js';
import { credentialEntry, parseUsersFile, UsersFileError, type UsersIssue } from './users.js';

const BOB_SHA = computeHa1('SHA-256', 'bob', 'b.test', 'secret');
const BOB_MD5 = computeHa1('MD5', 'bob', 'b.test', 'secret');

function issuesOf(text: string): UsersIssue[] {
  try {
    parseUsersFile(text, 'users.yaml');
  } catch (err) {
    if (err instanceof UsersFileError) return [...err.issues];
    throw err;
  }
  assert.fail('expected a UsersFileError');
}

test('HA1 entries: looked up by digest username and realm, per algorithm', () => {
  const { users, warnings } = parseUsersFile(`# the users of b.test\nbob@b.test:\n  ha1-sha256: "${BOB_SHA}"\n  ha1-md5: ${BOB_MD5.toUpperCase()}\n`, 'users.yaml');
  assert.deepEqual(warnings, []);
  assert.equal(users.size, 1);
  assert.equal(users.ha1('bob', 'b.test', 'SHA-256'), BOB_SHA);
  assert.equal(users.ha1('bob', 'b.test', 'MD5'), BOB_MD5);
  assert.equal(users.ha1('bob', 'a.test', 'MD5'), undefined);
  assert.equal(users.ha1('alice', 'b.test', 'MD5'), undefined);
  assert.equal(users.has('bob@B.test'), true);
  assert.equal(users.has('alice@b.test'), false);
});

test('a plain password is accepted with a warning naming the line; its HA1 values are computed for the domain', () => {
  const { users, warnings } = parseUsersFile('bob@b.test: { ha1-md5: "' + BOB_MD5 + '" }\nalice@a.test: { password: "wonder" }\n', 'users.yaml');
  assert.equal(users.ha1('alice', 'a.test', 'SHA-256'), computeHa1('SHA-256', 'alice', 'a.test', 'wonder'));
  assert.equal(users.ha1('alice', 'a.test', 'MD5'), computeHa1('MD5', 'alice', 'a.test', 'wonder'));
  assert.equal(users.ha1('bob', 'b.test', 'SHA-256'), undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0] ?? '', /line 1: bob@b\.test has no ha1-sha256/);
  assert.match(warnings[1] ?? '', /line 2: alice@a\.test has a plain password/);
});

test('an entry with its own realm answers for that realm', () => {
  const entry = credentialEntry('bob@b.test', 'secret', 'example');
  const { users } = parseUsersFile(`bob@b.test:\n  realm: example\n  ha1-sha256: ${entry['ha1-sha256']}\n  ha1-md5: ${entry['ha1-md5']}\n`, 'u');
  assert.equal(users.ha1('bob', 'example', 'MD5'), computeHa1('MD5', 'bob', 'example', 'secret'));
  assert.equal(users.ha1('bob', 'b.test', 'MD5'), undefined);
});

test('an empty file has no users', () => {
  assert.equal(parseUsersFile('', 'u').users.size, 0);
  assert.equal(parseUsersFile('# nobody yet\n', 'u').users.size, 0);
});

test('every fault names its key path and line', () => {
  const text = [
    'bob@b.test:', // 1
    '  ha1-sha256: "abc"', // 2
    '  ha1-md5: ' + BOB_MD5, // 3
    'not-an-address:', // 4
    '  password: x', // 5
    'carol@b.test:', // 6
    '  password: x', // 7
    '  ha1-md5: ' + BOB_MD5, // 8
    'dave@b.test:', // 9
    '  colour: blue', // 10
    'erin@b.test: {}', // 11
  ].join('\n');
  const issues = issuesOf(text);
  const find = (path: string): UsersIssue | undefined => issues.find((i) => i.path === path);
  assert.equal(find('bob@b.test.ha1-sha256')?.line, 2);
  assert.match(find('bob@b.test.ha1-sha256')?.message ?? '', /64 hex digits/);
  assert.equal(find('not-an-address')?.line, 4);
  assert.match(find('not-an-address')?.message ?? '', /not an address/);
  assert.equal(find('carol@b.test')?.line, 6);
  assert.match(find('carol@b.test')?.message ?? '', /both a password and HA1/);
  assert.equal(find('dave@b.test.colour')?.line, 10);
  assert.equal(find('dave@b.test')?.line, 9);
  assert.equal(find('erin@b.test')?.line, 11);
});

test('YAML syntax errors and duplicate keys name the line; the error has a code', () => {
  const dup = issuesOf(`bob@b.test: { password: a }\nalice@b.test: { password: b }\nbob@b.test: { password: c }\n`);
  assert.equal(dup[0]?.line, 3);
  const syntax = issuesOf('bob@b.test:\n  password: "unterminated\n');
  assert.ok(syntax.length > 0 && syntax[0]?.line !== undefined);
  assert.throws(() => parseUsersFile('- a list\n', 'u'), { code: 'USERS_ERR_INVALID' });
  // Two spellings of one address (the domain is case-insensitive).
  assert.equal(issuesOf('bob@b.test: { password: a }\nbob@B.TEST: { password: b }\n')[0]?.line, 2);
});

test('credentialEntry writes both HA1 values for the domain, never the password', () => {
  const entry = credentialEntry('bob@B.test', 'secret');
  assert.deepEqual(entry, { 'ha1-sha256': BOB_SHA, 'ha1-md5': BOB_MD5 });
  assert.ok(!JSON.stringify(entry).includes('secret'));
});
