import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { listenStartError } from './run-proxy.js';

/** The error Node gives when a second socket binds an address and port already taken. */
async function realBindError(kind: 'udp' | 'tcp'): Promise<{ error: Error; port: number }> {
  if (kind === 'tcp') {
    const first = net.createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as net.AddressInfo).port;
    const second = net.createServer();
    const error = await new Promise<Error>((resolve) => { second.once('error', resolve); second.listen(port, '127.0.0.1'); });
    await new Promise<void>((resolve) => first.close(() => resolve()));
    return { error, port };
  }
  const first = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => first.bind(0, '127.0.0.1', resolve));
  const port = first.address().port;
  const second = dgram.createSocket('udp4');
  const error = await new Promise<Error>((resolve) => { second.once('error', resolve); second.bind(port, '127.0.0.1'); });
  second.close();
  first.close();
  return { error, port };
}

test('a port in use names the listener of the config and says the port is in use', async () => {
  for (const kind of ['udp', 'tcp'] as const) {
    const { error, port } = await realBindError(kind);
    const listeners = [
      { url: `udp://127.0.0.1:${port}`, transport: 'udp' as const, address: '127.0.0.1', port },
      { url: `tcp://127.0.0.1:${port}`, transport: 'tcp' as const, address: '127.0.0.1', port },
    ];
    const started = listenStartError(error, listeners);
    assert.equal(started.part, 'listen');
    assert.equal(started.message, `listen: ${kind}://127.0.0.1:${port}: the port is already in use (another process, or another sipsec proxy, listens there) (EADDRINUSE)`);
    assert.equal((started.cause as Error).cause, error);
  }
});

test('an error that is not a bind failure keeps its own message', () => {
  const started = listenStartError(new Error('no advertised name for tls 127.0.0.1:5061'), []);
  assert.equal(started.message, 'listen: no advertised name for tls 127.0.0.1:5061');
});
