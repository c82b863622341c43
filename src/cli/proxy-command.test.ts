import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigFixture, MINIMAL } from '../proxy/config-fixtures.test.support.js';
import type { ProxyConfig } from '../proxy/config.js';
import type { ProxyRunIo } from '../proxy/run-proxy.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from './command.js';
import { makeProxyCommand } from './proxy-command.js';
import { runCli } from './run-cli.js';

const fx = new ConfigFixture();
after(() => fx.remove());
fx.domain('a.test');

function capture(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, out: () => out.join(''), err: () => err.join('') };
}

test('proxy --check-config: a valid file exits 0 with a one-line summary', async () => {
  const file = fx.config(MINIMAL);
  const c = capture();
  assert.equal(await runCli(['proxy', '--check-config', file], c.io), EXIT_OK, c.err());
  assert.match(c.out(), /^\S+proxy-\d+\.yaml: valid; domains a\.test; listen tls:\/\/127\.0\.0\.2:5061 as a\.test:5061; 0 users; location sqlite:\S+location\.db; nonce key random per process\n$/);
  assert.equal(c.err(), '');
});

test('proxy --check-config --json: one document, schema sipsec.proxy-config/1, valid or with its errors', async () => {
  const good = capture();
  assert.equal(await runCli(['proxy', '--check-config', fx.config(MINIMAL), '--json'], good.io), EXIT_OK);
  const doc = JSON.parse(good.out()) as { schema: string; valid: boolean; domains: { name: string; identities: string[] }[]; listeners: { advertisedHost: string }[] };
  assert.equal(doc.schema, 'sipsec.proxy-config/1');
  assert.equal(doc.valid, true);
  assert.deepEqual(doc.domains.map((d) => [d.name, d.identities]), [['a.test', ['a.test']]]);
  assert.equal(doc.listeners[0]?.advertisedHost, 'a.test');
  assert.equal(good.out().split('\n').length, 2, 'one line');
  const bad = capture();
  const file = fx.config(`${MINIMAL}lisen: []\n`);
  assert.equal(await runCli(['proxy', '--check-config', file, '--json'], bad.io), EXIT_USAGE);
  assert.deepEqual(JSON.parse(bad.out()), { schema: 'sipsec.proxy-config/1', valid: false, file, errors: [{ file, line: 6, path: 'lisen', message: "unknown key 'lisen' (did you mean 'listen'?)" }] });
});

test('proxy --check-config: an invalid file exits 2 with every fault on its own line, FILE:LINE: key.path: message', async () => {
  // The shape is checked first: files are read once it is right.
  const file = fx.config(MINIMAL.replace('a.test.key', 'missing.key') + 'log: { format: yaml }\n');
  const c = capture();
  assert.equal(await runCli(['proxy', '--check-config', file], c.io), EXIT_USAGE);
  assert.equal(c.err(), `${file}:6: log.format: must be json or text\n`);
  assert.equal(c.out(), '');
  const fixed = fx.config(MINIMAL.replace('a.test.key', 'missing.key') + 'location: "mysql://x"\n');
  const d = capture();
  assert.equal(await runCli(['proxy', '--check-config', fixed], d.io), EXIT_USAGE);
  const lines = d.err().trimEnd().split('\n');
  assert.equal(lines.length, 2, d.err());
  assert.match(lines[0] ?? '', new RegExp(`^${fixed.replace(/[.]/g, '\\.')}:4: domains\\.a\\.test\\.key: cannot read \\S+missing\\.key: no such file or directory \\(ENOENT\\)$`));
  assert.match(lines[1] ?? '', new RegExp(`^${fixed.replace(/[.]/g, '\\.')}:6: location: must be "sqlite:FILE" or "redis://HOST:PORT/DB"`));
});

test('proxy --check-config prints the warnings on stderr and still exits 0', async () => {
  fx.write('users.yaml', 'alice@a.test: { password: wonder }\n');
  const c = capture();
  assert.equal(await runCli(['proxy', '--check-config', fx.config(`${MINIMAL}users: users.yaml\n`)], c.io), EXIT_OK);
  assert.match(c.err(), /^warning: .*alice@a\.test has a plain password/m);
  assert.match(c.out(), /; 1 user;/);
});

test('proxy --check-config: an advertised name one domain\'s certificate does not name is a warning (exit 0, the summary still printed)', async () => {
  fx.domain('b.test', { san: { uri: ['sip:b.test', 'sip:proxy.b.test'], dns: ['b.test'] } });
  const c = capture();
  const file = fx.config('domains:\n  a.test: { certificate: a.test.pem, key: a.test.key }\n  b.test: { certificate: b.test.pem, key: b.test.key }\nlisten:\n  - { url: "tls://127.0.0.2:5061", advertise: proxy.b.test }\n');
  assert.equal(await runCli(['proxy', '--check-config', file], c.io), EXIT_OK);
  assert.match(c.err(), /^warning: \S+:5: listen\[0\]\.advertise: tls:\/\/127\.0\.0\.2:5061 \(tls listener\) advertises proxy\.b\.test in Via and Record-Route, which is not a SIP identity of the certificate of domain a\.test .*via-sent-by-mismatch/m);
  assert.equal(c.err().trimEnd().split('\n').length, 1, c.err());
  assert.match(c.out(), /: valid; domains a\.test, b\.test;/);
  const json = capture();
  assert.equal(await runCli(['proxy', '--check-config', file, '--json'], json.io), EXIT_OK);
  assert.match((JSON.parse(json.out()) as { warnings: string[] }).warnings.join('\n'), /certificate of domain a\.test/);
});

test('proxy --config loads the file and hands the frozen config to the runner, with a stop signal; its exit code is the command\'s', async () => {
  const seen: { config: ProxyConfig; io: ProxyRunIo }[] = [];
  const command = makeProxyCommand((config, io) => {
    seen.push({ config, io });
    return Promise.resolve(0);
  });
  const c = capture();
  assert.equal(await command.run(['--config', fx.config(MINIMAL)], c.io), EXIT_OK);
  assert.equal(seen.length, 1);
  assert.ok(Object.isFrozen(seen[0]?.config));
  assert.deepEqual(seen[0]?.config.domains.map((d) => d.name), ['a.test']);
  assert.equal(seen[0]?.io.signal?.aborted, false);
  // A runner that fails to start (a port in use) is exit 1 with its message, no stack.
  const failing = makeProxyCommand(() => Promise.reject(new Error('listen tls://127.0.0.2:5061: EADDRINUSE')));
  const f = capture();
  assert.equal(await failing.run(['--config', fx.config(MINIMAL)], f.io), EXIT_FINDINGS);
  assert.equal(f.err(), 'sipsec proxy: listen tls://127.0.0.2:5061: EADDRINUSE\n');
  // An invalid file never reaches the runner.
  const i = capture();
  assert.equal(await command.run(['--config', fx.config(`${MINIMAL}lisen: 1\n`)], i.io), EXIT_USAGE);
  assert.equal(seen.length, 1);
  assert.match(i.err(), /:6: lisen: unknown key/);
});

test('proxy --config: a port in use stops the start, naming the listener, with nothing left open', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const config = fx.config(`domains:\n  a.test:\n    certificate: a.test.pem\n    key: a.test.key\nlisten: [ "tcp://127.0.0.1:${port}" ]\nlocation: "sqlite::memory:"\ndns: { unbound: ${JSON.stringify(fx.write("unbound.conf", "server:\n"))} }\n`);
    const c = capture();
    assert.equal(await runCli(['proxy', '--config', config], c.io), EXIT_FINDINGS);
    assert.match(c.err(), new RegExp(`^sipsec proxy: listen: .*127\\.0\\.0\\.1:${port}`, 'm'));
    assert.match(c.out(), /"part":"listen".*"event":"proxy-start-failed"/);
  } finally {
    blocker.close();
  }
});

test('proxy usage: --help, nothing given, both modes, a positional file, --json without --check-config', async () => {
  const help = capture();
  assert.equal(await runCli(['proxy', '--help'], help.io), EXIT_OK);
  assert.match(help.out(), /--check-config FILE/);
  const file = fx.config(MINIMAL);
  for (const args of [[], ['--config', file, '--check-config', file], [file], ['--config', file, '--json']]) {
    const c = capture();
    assert.equal(await runCli(['proxy', ...args], c.io), EXIT_USAGE, args.join(' '));
    assert.match(c.err(), /usage: sipsec proxy/);
  }
  const list = capture();
  await runCli(['--help'], list.io);
  assert.match(list.out(), /^ {2}proxy +run the registrar and stateful proxy/m);
});
