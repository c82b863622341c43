import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowTokens } from './flow-token.js';

test('a flow token gives back the flows of both sides and the From tag; a changed or foreign token gives nothing', () => {
  const tokens = new FlowTokens();
  const toCallee = { transport: 'tcp' as const, address: '198.51.100.7', port: 40123, connectionId: 'c42' };
  const toCaller = { transport: 'udp' as const, address: '192.0.2.5', port: 5062 };
  const token = tokens.encode({ toCallee }, 'caller-tag');
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'URI parameter characters only');
  assert.deepEqual(tokens.decode(token), { toCallee, fromTag: 'caller-tag' });
  assert.deepEqual(tokens.decode(tokens.encode({ toCaller }, 't')), { toCaller, fromTag: 't' });
  assert.deepEqual(tokens.decode(tokens.encode({ toCallee, toCaller }, '')), { toCallee, toCaller, fromTag: '' });
  const [body = '', mac = ''] = token.split('.');
  const forged = Buffer.from('tcp 203.0.113.9 5060 c1 - - - - caller-tag').toString('base64url');
  assert.equal(tokens.decode(`${forged}.${mac}`), undefined);
  assert.equal(tokens.decode(`${body}.${mac.slice(1)}`), undefined);
  assert.equal(tokens.decode(body), undefined);
  assert.equal(new FlowTokens().decode(token), undefined, 'another secret');
  assert.deepEqual(new FlowTokens(Buffer.from('shared')).decode(new FlowTokens(Buffer.from('shared')).encode({ toCallee }, 'x'))?.toCallee, toCallee, 'instances sharing a secret read each other\'s tokens');
});
