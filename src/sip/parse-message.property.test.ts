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
import { nameAddr, token, uri, validRequest, via } from '../../test/support/sip-arbitraries.js';

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
