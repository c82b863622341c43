import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sipsec from './index.js';

// The package root is the library's contract: these names are what the README and docs promise.
test('the package root exports the documented API of every layer', () => {
  for (const name of [
    'parseMessage', 'inspectMessage', 'serializeMessage', 'StreamFramer', 'parseUri', 'uriEquals',
    'verifyServer', 'verifyClient', 'TrustStore', 'connectAndVerify',
    'createResolver', 'locate', 'lookupTlsa',
    'TransportLayer', 'TransactionLayer', 'Responder', 'buildRequest', 'requestOnce', 'sendableTargets',
    'destinationsFor', 'sendWithFailover', 'failsOver', 'referenceNames',
  ]) {
    assert.equal(typeof (sipsec as Record<string, unknown>)[name], 'function', name);
  }
  const message = sipsec.parseMessage(Buffer.from('OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(sipsec.serializeMessage(message).toString().split('\r\n')[0], 'OPTIONS sip:b@example.com SIP/2.0');
});
