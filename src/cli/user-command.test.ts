import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../test/support/paths.js';
import { computeHa1 } from '../registrar/digest.js';
import { parseUsersFile } from '../registrar/users.js';
import { runCli } from './run-cli.js';
import { makeUserCommand } from './user-command.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipsec-user-'));
  dirs.push(dir);
  return dir;
}

async function add(args: string[], password = 'wonder'): Promise<{ code: number; out: string; err: string; prompts: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const prompts: string[] = [];
  const command = makeUserCommand((prompt) => {
    prompts.push(prompt);
    return Promise.resolve(password);
  });
  let code: number;
  try {
    code = await command.run(args, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  } catch (e) {
    // runCli turns a UsageError into exit 2; the command itself throws it.
    if ((e as { code?: string }).code !== 'CLI_ERR_USAGE') throw e;
    code = 2;
    err.push((e as Error).message);
  }
  return { code, out: out.join(''), err: err.join(''), prompts };
}

test('user add writes both HA1 values (never the password) into a new file, which then authenticates', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'users.yaml');
  const r = await add(['add', 'alice@a.test', '--users', file]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.prompts, ['Password for alice@a.test: ']);
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(!text.includes('wonder'));
  const { users, warnings } = parseUsersFile(text, file);
  assert.deepEqual(warnings, []);
  assert.equal(users.ha1('alice', 'a.test', 'SHA-256'), computeHa1('SHA-256', 'alice', 'a.test', 'wonder'));
  assert.equal(users.ha1('alice', 'a.test', 'MD5'), computeHa1('MD5', 'alice', 'a.test', 'wonder'));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const again = await add(['add', 'alice@a.test', '--users', file, '--json']);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(JSON.parse(again.out), { schema: 'sipsec.user/1', action: 'updated', address: 'alice@a.test', realm: 'a.test', file });
});

test('user add keeps the other entries and the comments, and replaces a plain password', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'users.yaml');
  const original = '# users of a.test and b.test\nbob@b.test:\n  # bob\'s desk phone\n  password: "old"\n\n# carol joined in May\ncarol@a.test: { password: "c" }\n';
  fs.writeFileSync(file, original);
  assert.equal((await add(['add', 'bob@B.test', '--users', file], 'new')).code, 0);
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text, /^# users of a\.test and b\.test\n/);
  assert.match(text, /# carol joined in May\ncarol@a\.test: \{ password: "c" \}/);
  assert.ok(!text.includes('"old"'));
  const { users } = parseUsersFile(text, file);
  assert.equal(users.size, 2);
  assert.equal(users.ha1('bob', 'b.test', 'MD5'), computeHa1('MD5', 'bob', 'b.test', 'new'));
  assert.equal(users.ha1('carol', 'a.test', 'MD5'), computeHa1('MD5', 'carol', 'a.test', 'c'));
  // --realm writes the realm beside the HA1 values.
  assert.equal((await add(['add', 'dave@a.test', '--users', file, '--realm', 'sip-realm'])).code, 0);
  assert.equal(parseUsersFile(fs.readFileSync(file, 'utf8'), file).users.ha1('dave', 'sip-realm', 'MD5'), computeHa1('MD5', 'dave', 'sip-realm', 'wonder'));
});

test('user add: usage errors exit 2 and write nothing; an invalid users file is reported with its line, not rewritten', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'users.yaml');
  for (const args of [[], ['remove', 'a@b.test'], ['add'], ['add', 'not-an-address'], ['add', 'a@b.test', 'extra'], ['add', 'a@b.test', '--bogus']]) {
    assert.equal((await add([...args, '--users', file])).code, 2, args.join(' '));
  }
  assert.equal((await add(['add', 'a@b.test', '--users', file], '')).code, 2);
  assert.equal(fs.existsSync(file), false);
  const broken = 'bob@b.test:\n  ha1-md5: "nothex"\n';
  fs.writeFileSync(file, broken);
  const r = await add(['add', 'a@b.test', '--users', file]);
  assert.equal(r.code, 2);
  assert.match(r.err, /line 2: bob@b\.test\.ha1-md5: must be 32 hex digits/);
  assert.deepEqual(r.prompts, []);
  assert.equal(fs.readFileSync(file, 'utf8'), broken);
});

test('sipsec user add reads one line from a piped stdin; sipsec lists the command', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'users.yaml');
  const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/cli/main.js'), 'user', 'add', 'erin@b.test', '--users', file], { input: 'piped pass\nignored\n', encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(parseUsersFile(fs.readFileSync(file, 'utf8'), file).users.ha1('erin', 'b.test', 'SHA-256'), computeHa1('SHA-256', 'erin', 'b.test', 'piped pass'));
  const out: string[] = [];
  assert.equal(await runCli(['--help'], { stdout: (t) => void out.push(t), stderr: () => undefined }), 0);
  assert.match(out.join(''), /\buser\b/);
});

test('user add keeps a forward target; a users file may forward a user, and refuses a target that is no sip or sips URI', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'users.yaml');
  fs.writeFileSync(file, 'bob@b.test: { password: "old", forward: "sip:bob@c.test" }\nerin@b.test: { forward: "sips:erin@d.test" }\n');
  const before = parseUsersFile(fs.readFileSync(file, 'utf8'), file).users;
  assert.equal(before.forwardOf('erin@B.TEST')?.toString(), 'sips:erin@d.test', 'a user that only forwards needs no credentials');
  assert.equal((await add(['add', 'bob@b.test', '--users', file], 'new')).code, 0);
  const { users } = parseUsersFile(fs.readFileSync(file, 'utf8'), file);
  assert.equal(users.forwardOf('bob@b.test')?.toString(), 'sip:bob@c.test');
  assert.equal(users.ha1('bob', 'b.test', 'MD5'), computeHa1('MD5', 'bob', 'b.test', 'new'));
  assert.throws(() => parseUsersFile('bob@b.test: { password: "x", forward: "tel:+123" }\n', file), /forward: must be a sip or sips URI/);
  assert.throws(() => parseUsersFile('bob@b.test: { password: "x", forward: "sip:c.test" }\n', file), /forward: must be a sip or sips URI/);
});
