import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SendableTransport } from '../dns/locator.js';
import type { LocatedDestination } from '../ua/destinations.js';
import { parseSipUri } from '../sip/uri.js';
import { chosenThroughSrv, isPromotable, promotedRequestUri } from './sips-promotion.js';

function located(transport: SendableTransport, srvHost: string | undefined, port = 5061): LocatedDestination {
  return {
    destination: { transport, address: '192.0.2.10', port },
    located: {
      transport, address: '192.0.2.10', family: 4, port, dnssec: 'secure', lookups: [], identities: ['b.example'],
      ...(srvHost === undefined ? {} : { srvHost }),
    },
  };
}

const ON = { promoteSips: true, isRequestUri: true } as const;

test('promote-sips: only a sip Request-URI with no transport parameter, when the policy is on and no Route is left', () => {
  assert.equal(isPromotable(parseSipUri('sip:bob@b.example'), ON), true);
  assert.equal(isPromotable(parseSipUri('sip:bob@b.example'), { ...ON, promoteSips: false }), false, 'the policy is off');
  assert.equal(isPromotable(parseSipUri('sip:proxy.b.example;lr'), { ...ON, isRequestUri: false }), false, 'a Route hop is not the Request-URI');
  assert.equal(isPromotable(parseSipUri('sips:bob@b.example'), ON), false, 'already sips');
  assert.equal(isPromotable(parseSipUri('sip:bob@b.example;transport=tls'), ON), false, 'a transport the sender named, not DNS');
  assert.equal(isPromotable(parseSipUri('sip:bob@b.example;transport=udp'), ON), false);
});

test('promote-sips: TLS chosen through NAPTR/SRV for every destination, nothing else', () => {
  assert.equal(chosenThroughSrv([located('tls', 'sip1.b.example'), located('tls', 'sip2.b.example')]), true);
  assert.equal(chosenThroughSrv([located('tls', 'sip1.b.example'), located('tls', undefined)]), false, 'an A/AAAA fallback target');
  assert.equal(chosenThroughSrv([located('tls', undefined)]), false, 'no SRV at all: port 5061 on the domain\'s address');
  assert.equal(chosenThroughSrv([located('tls', 'sip1.b.example'), located('tcp', 'sip1.b.example', 5060)]), false, 'a TCP fallback');
  assert.equal(chosenThroughSrv([located('udp', 'sip1.b.example', 5060)]), false);
  assert.equal(chosenThroughSrv([]), false, 'no destination proves nothing');
});

test('promote-sips: the promoted Request-URI keeps user, host, port and parameters; sip to sips only', () => {
  const uri = parseSipUri('sip:bob@B.example:5070;user=phone;x=1?subject=hi');
  const promoted = promotedRequestUri(uri, true);
  assert.equal(promoted?.scheme, 'sips');
  assert.equal(promoted?.toString(), 'sips:bob@B.example:5070;user=phone;x=1?subject=hi');
  assert.equal(promotedRequestUri(uri, false), undefined);
  assert.equal(uri.scheme, 'sip', 'the original URI is left as it was');
});
