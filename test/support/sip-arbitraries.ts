/**
 * fast-check arbitraries for SIP text: tokens, hosts, URIs, name-addrs, Vias and whole valid
 * requests built from the RFC 3261 grammar (optional headers, compact names, folding). Shared by the
 * property tests and the fuzzer's seed corpus.
 */
import fc from 'fast-check';

export const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const hostLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
export const host = fc.oneof(
  fc.array(hostLabel, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
// A URI parameter has no bare '%': escapes are %HH (RFC 3261 paramchar).
const uriParam = fc.stringMatching(/^[a-zA-Z0-9\-_.!~*'()]{1,8}(?:=[a-zA-Z0-9[\]/:&+$]{1,6})?$/);
const user = fc.stringMatching(/^[a-zA-Z0-9\-_.!~*'()&=+$,;?/]{1,10}$/);
export const uri = fc
  .record({ scheme: fc.constantFrom('sip', 'sips'), user: fc.option(user, { nil: undefined }), host, port, params: fc.array(uriParam, { maxLength: 3 }) })
  .map((u) => `${u.scheme}:${u.user === undefined ? '' : `${u.user}@`}${u.host}${u.port === undefined ? '' : `:${u.port}`}${u.params.map((p) => `;${p}`).join('')}`);
const displayName = fc.option(fc.stringMatching(/^[a-zA-Z0-9 ,;:<>@"\\]{0,12}$/), { nil: undefined }).map((d) =>
  d === undefined ? '' : `"${d.replace(/["\\]/g, '\\$&')}" `);
export const nameAddr = fc.tuple(displayName, uri, fc.option(token, { nil: undefined })).map(([d, u, tag]) => `${d}<${u}>${tag === undefined ? '' : `;tag=${tag}`}`);
export const via = fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS'), host, port, token).map(([t, h, p, b]) => `SIP/2.0/${t} ${h}${p === undefined ? '' : `:${p}`};branch=z9hG4bK${b}`);
const method = fc.constantFrom('INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'MESSAGE', 'FOO');
const body = fc.stringMatching(/^[ -~\r\n]{0,200}$/);

/** A valid request built from the grammar, with optional headers, varied spelling and folding. */
export const validRequest = fc
  .record({
    method, uri, vias: fc.array(via, { minLength: 1, maxLength: 4 }), from: nameAddr, to: nameAddr, callId: token,
    seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }), maxForwards: fc.integer({ min: 0, max: 255 }),
    contacts: fc.array(nameAddr, { maxLength: 3 }), routes: fc.array(nameAddr, { maxLength: 3 }),
    require: fc.array(token, { maxLength: 3 }), unknown: fc.array(fc.tuple(token, fc.stringMatching(/^[ -~]{0,30}$/)), { maxLength: 3 }),
    compact: fc.boolean(), fold: fc.boolean(), body,
  })
  .map((r) => {
    const lines = [
      `${r.method} ${r.uri} SIP/2.0`,
      ...r.vias.map((v) => `${r.compact ? 'v' : 'Via'}: ${v}`),
      `${r.compact ? 'f' : 'From'}: ${r.from}`,
      `${r.compact ? 't' : 'To'}:${r.fold ? '\r\n ' : ' '}${r.to}`,
      `${r.compact ? 'i' : 'Call-ID'}: ${r.callId}`,
      `CSeq: ${r.seq}${r.fold ? '\r\n\t' : ' '}${r.method}`,
      `Max-Forwards: ${r.maxForwards}`,
      ...(r.contacts.length > 0 ? [`${r.compact ? 'm' : 'Contact'}: ${r.contacts.join(', ')}`] : []),
      ...r.routes.map((x) => `Route: ${x}`),
      ...(r.require.length > 0 ? [`Require: ${r.require.join(', ')}`] : []),
      ...r.unknown.map(([n, v]) => `X-${n}: ${v}`),
      `${r.compact ? 'l' : 'Content-Length'}: ${Buffer.byteLength(r.body)}`,
    ];
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${r.body}`);
  });

