import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inspectMessage, parseMessage } from './parse-message.js';
import { serializeMessage } from './serialize-message.js';
import { FramingError, StreamFramer } from './stream-framer.js';
import { parseNameAddr, parseNameAddrByGrammar, tagOf } from './name-addr.js';
import { parseVia, parseViaByGrammar } from './via.js';
import { SipParseError } from './errors.js';
import { parseUri, parseUriByGrammar } from './uri.js';

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const hostLabel = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
const host = fc.oneof(
  fc.array(hostLabel, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
// A URI parameter has no bare '%': escapes are %HH (RFC 3261 paramchar).
const uriParam = fc.stringMatching(/^[a-zA-Z0-9\-_.!~*'()]{1,8}(?:=[a-zA-Z0-9[\]/:&+$]{1,6})?$/);
const user = fc.stringMatching(/^[a-zA-Z0-9\-_.!~*'()&=+$,;?/]{1,10}$/);
const uri = fc
  .record({ scheme: fc.constantFrom('sip', 'sips'), user: fc.option(user, { nil: undefined }), host, port, params: fc.array(uriParam, { maxLength: 3 }) })
  .map((u) => `${u.scheme}:${u.user === undefined ? '' : `${u.user}@`}${u.host}${u.port === undefined ? '' : `:${u.port}`}${u.params.map((p) => `;${p}`).join('')}`);
const displayName = fc.option(fc.stringMatching(/^[a-zA-Z0-9 ,;:<>@"\\]{0,12}$/), { nil: undefined }).map((d) =>
  d === undefined ? '' : `"${d.replace(/["\\]/g, '\\$&')}" `);
const nameAddr = fc.tuple(displayName, uri, fc.option(token, { nil: undefined })).map(([d, u, tag]) => `${d}<${u}>${tag === undefined ? '' : `;tag=${tag}`}`);
const via = fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS'), host, port, token).map(([t, h, p, b]) => `SIP/2.0/${t} ${h}${p === undefined ? '' : `:${p}`};branch=z9hG4bK${b}`);
const method = fc.constantFrom('INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'MESSAGE', 'FOO');
const body = fc.stringMatching(/^[ -~\r\n]{0,200}$/);

/** A valid request built from the grammar, with optional headers, varied spelling and folding. */
const validRequest = fc
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

test('no exception escapes the parser on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), (bytes) => {
      const result = inspectMessage(bytes);
      if (!result.ok) assert.ok(result.faults.length > 0);
    }),
    { numRuns: 3000 },
  );
});

test('no exception escapes the parser on mutations of a valid message', () => {
  fc.assert(
    fc.property(validRequest, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (bytes, edits) => {
      const mutated = Buffer.from(bytes);
      for (const [at, value] of edits) mutated[at % mutated.length] = value;
      const result = inspectMessage(mutated);
      if (result.ok) {
        // A mutation that still parses must survive every typed accessor.
        result.message.via();
        result.message.contacts();
      } else {
        assert.ok(result.faults.length > 0);
      }
    }),
    { numRuns: 2000 },
  );
});

test('the stream framer never throws, on any chunking of any bytes; an error is only ever last', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
      const framer = new StreamFramer({ maxMessageBytes: 2000, maxHeaderSectionBytes: 1000 });
      for (const chunk of chunks) {
        const items = framer.push(chunk);
        items.slice(0, -1).forEach((item) => assert.notEqual(item.type, 'framing-error'));
        const last = items[items.length - 1];
        if (last?.type === 'framing-error') assert.ok(last.error instanceof FramingError);
      }
    }),
    { numRuns: 2000 },
  );
});

test('generated valid requests parse fully, and parse(serialize(m)) equals m', () => {
  fc.assert(
    fc.property(validRequest, (bytes) => {
      const result = inspectMessage(bytes);
      assert.ok(result.ok, result.ok ? '' : `${JSON.stringify(result.faults)}\n${bytes.toString()}`);
      const message = result.message;
      const again = parseMessage(serializeMessage(message));
      assert.equal(again.kind, message.kind);
      assert.deepEqual(again.headers, message.headers);
      assert.deepEqual(Buffer.from(again.body), Buffer.from(message.body));
      assert.deepEqual(again.via(), message.via());
      assert.deepEqual(again.contacts(), message.contacts());
      assert.deepEqual(again.cseq(), message.cseq());
      // The lazy tag reader agrees with the full name-addr parse.
      const lazy = parseMessage(bytes, { depth: 'lazy' });
      assert.equal(lazy.fromTag(), tagOf(message.from()));
      assert.equal(lazy.toTag(), tagOf(message.to()));
    }),
    { numRuns: 1000 },
  );
});

test('generated valid requests frame identically over a stream, split anywhere', () => {
  fc.assert(
    fc.property(fc.array(validRequest, { minLength: 1, maxLength: 3 }), fc.nat(), (messages, cut) => {
      const all = Buffer.concat(messages);
      const at = cut % (all.length + 1);
      const framer = new StreamFramer();
      const items = [...framer.push(all.subarray(0, at)), ...framer.push(all.subarray(at))];
      assert.deepEqual(items.map((i) => (i.type === 'message' ? i.bytes : i.type)), messages);
    }),
    { numRuns: 500 },
  );
});

/** Both outcomes of a parse: the value, or the error code it threw. */
function outcome<T>(parse: () => T): { value: T } | { error: string } {
  try {
    return { value: parse() };
  } catch (err) {
    return { error: err instanceof SipParseError ? `${err.code} ${err.detail}` : String(err) };
  }
}

// The fast paths (canonical forms by regular expression) must agree with the grammar everywhere.
const noise = fc.constantFrom('', ' ', '  ', '\t', ';', ',', '"', '<', '>', ':', '=', '[', ']', '\\', 'é', ';x=[a;b]', ';y=[::1]');
const spliced = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(), noise), { maxLength: 3 })).map(([text, edits]) => {
    let out = text;
    for (const [at, piece] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + piece + out.slice(i);
    }
    return out;
  });

test('the canonical Via fast path agrees with the grammar, on valid and damaged values', () => {
  fc.assert(
    fc.property(spliced(via), (text) => {
      assert.deepEqual(outcome(() => parseVia(text)), outcome(() => parseViaByGrammar(text)));
    }),
    { numRuns: 3000 },
  );
});

test('the canonical name-addr fast path agrees with the grammar, on valid and damaged values', () => {
  const addrSpec = fc.tuple(uri, fc.option(token, { nil: undefined })).map(([u, tag]) => `${u}${tag === undefined ? '' : `;tag=${tag}`}`);
  fc.assert(
    fc.property(spliced(fc.oneof(nameAddr, addrSpec)), (text) => {
      assert.deepEqual(outcome(() => parseNameAddr(text, 'from')), outcome(() => parseNameAddrByGrammar(text, 'from')));
    }),
    { numRuns: 3000 },
  );
});

test('the canonical sip URI fast path agrees with the grammar, on valid and damaged values', () => {
  fc.assert(
    fc.property(spliced(fc.oneof(uri, uri.map((u) => u.toUpperCase()), uri.map((u) => `${u};maddr=%41b`))), (text) => {
      assert.deepEqual(outcome(() => parseUri(text)), outcome(() => parseUriByGrammar(text)));
    }),
    { numRuns: 3000 },
  );
});
