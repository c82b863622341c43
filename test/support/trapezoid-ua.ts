/**
 * A user agent of the trapezoid in the test process: sends one request through a proxy over UDP
 * and answers its 407 once with digest (MD5, as the lab's proxies offer), as a local user going to
 * another domain must. For tests that need the final response itself (status, Warning, Reason).
 */
import { randomBytes } from 'node:crypto';
import { computeDigestResponse, computeHa1 } from '../../src/registrar/digest.js';
import type { SipResponse } from '../../src/sip/message.js';
import { serializeMessage } from '../../src/sip/serialize-message.js';
import { parseSipUri } from '../../src/sip/uri.js';
import { buildRequest } from '../../src/ua/build-request.js';
import { SipStack } from '../../src/ua/sip-stack.js';

export interface TrapezoidCaller {
  /** The UA's own loopback address (UDP, any port). */
  readonly address: string;
  /** The proxy it sends to (UDP 5060). */
  readonly proxy: string;
  readonly user: string;
  readonly domain: string;
  readonly password: string;
}

/** The final response to `method` for `target`, after at most one 407 answered with credentials. */
export async function askThroughProxy(caller: TrapezoidCaller, method: string, target: string): Promise<SipResponse> {
  const stack = await SipStack.start({ listeners: [{ transport: 'udp', address: caller.address, port: 0 }], log: () => undefined, tu: () => ({}) });
  try {
    const port = stack.listening()[0]?.port ?? 0;
    const uri = parseSipUri(target);
    const send = (headers: ReadonlyArray<readonly [string, string]>, cseq: number, callId?: string): Promise<SipResponse> => new Promise((resolve) => {
      const request = buildRequest({ method, uri, from: `sip:${caller.user}@${caller.domain}`, via: { transport: 'udp', host: caller.address, port }, cseq, headers });
      if (callId !== undefined) request.setHeader('call-id', callId);
      stack.transactions.sendRequest(request, { transport: 'udp', address: caller.proxy, port: 5060 }, {
        onResponse: (response) => {
          if (response.status >= 200) resolve(response);
        },
      });
    });
    const first = await send([], 1);
    if (first.status !== 407) return first;
    const challenge = first.proxyAuthenticates()[0];
    const param = (name: string): string => (challenge?.params.find((p) => p.name.toLowerCase() === name)?.value ?? '').replace(/^"|"$/g, '');
    const realm = param('realm');
    const cnonce = randomBytes(8).toString('hex');
    const nonce = param('nonce');
    const credentials = { username: caller.user, realm, nonce, uri: target, response: '', algorithm: 'MD5' as const, cnonce, nc: 1, ncText: '00000001', qop: 'auth' as const };
    const response = computeDigestResponse(credentials, computeHa1('MD5', caller.user, realm, caller.password), method);
    const opaque = param('opaque');
    const authorization = `Digest username="${caller.user}", realm="${realm}", nonce="${nonce}", uri="${target}", response="${response}", ` +
      `algorithm=MD5, cnonce="${cnonce}", nc=00000001, qop=auth${opaque !== '' ? `, opaque="${opaque}"` : ''}`;
    return await send([['proxy-authorization', authorization]], 2, first.callId());
  } finally {
    await stack.close({ force: true });
  }
}

/** A response as text, for assertion messages. */
export function showResponse(response: SipResponse): string {
  return serializeMessage(response).toString('latin1');
}
