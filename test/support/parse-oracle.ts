/**
 * What must hold for any bytes a peer sends, checked through every parse entry point: the full and
 * lazy parse, every typed accessor, inspectMessage in stream mode, the stream framer in chunks.
 * Shared by the property tests and the fuzzer (test/fuzz). A violation throws OracleViolation
 * naming the property; any other exception escaping a parser is itself the finding.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { SipLimits } from '../../src/limits.js';
import { SipParseError } from '../../src/sip/errors.js';
import { parseAllTypedHeaders, type SipMessage } from '../../src/sip/message.js';
import { tagOf } from '../../src/sip/name-addr.js';
import { inspectMessage } from '../../src/sip/parse-message.js';
import { serializeMessage } from '../../src/sip/serialize-message.js';
import { FramingError, StreamFramer, type FramedItem } from '../../src/sip/stream-framer.js';

export class OracleViolation extends Error {
  constructor(
    readonly property: 'full-lazy-agreement' | 'accessor-throws' | 'round-trip' | 'framer' | 'work',
    detail: string,
    options?: { cause: unknown },
  ) {
    super(`${property}: ${detail}`, options);
    this.name = 'OracleViolation';
  }
}

/** What a message exposes to the transaction layer, read by its typed accessors. */
function exposed(message: SipMessage): unknown {
  return {
    topVia: message.topVia(),
    cseq: message.cseq(),
    callId: message.callId(),
    fromTag: message.fromTag(),
    toTag: message.toTag(),
  };
}

/** The faults of reading every typed header, as `code/header`, Content-Length's left to framing. */
function typedFaults(message: SipMessage): string[] {
  return parseAllTypedHeaders(message)
    .filter((e) => e.header !== 'content-length')
    .map((e) => `${e.code}/${e.header ?? ''}`)
    .sort();
}

function check(property: OracleViolation['property'], what: string, run: () => void): void {
  try {
    run();
  } catch (err) {
    if (err instanceof OracleViolation) throw err;
    if (err instanceof SipParseError || err instanceof assert.AssertionError) throw new OracleViolation(property, `${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The checks on one input; returns whether the full parse accepted it. */
export function checkParse(bytes: Uint8Array, limits?: Partial<SipLimits>): boolean {
  const full = inspectMessage(bytes, { limits });
  const lazy = inspectMessage(bytes, { depth: 'lazy', limits });
  inspectMessage(bytes, { framing: 'stream', limits });
  inspectMessage(bytes, { framing: 'stream', depth: 'lazy', limits });
  if (full.ok && !lazy.ok) throw new OracleViolation('full-lazy-agreement', `full accepts, lazy rejects with ${lazy.faults.map((f) => f.code).join(',')}`);
  if (lazy.ok) {
    const lazyMessage = lazy.message;
    check('full-lazy-agreement', 'a value the lazy parse exposes', () => exposed(lazyMessage));
    // The rest of a lazily parsed message, read later from its strings, reaches the full verdict.
    const later = typedFaults(lazyMessage);
    const fullFaults = full.ok ? [] : full.faults.filter((f) => f.header !== 'content-length').map((f) => `${f.code}/${f.header ?? ''}`).sort();
    check('full-lazy-agreement', 'the faults of the headers the lazy parse leaves', () => assert.deepEqual(later, fullFaults));
    if (full.ok) {
      check('full-lazy-agreement', 'the values both parses expose', () => {
        assert.deepEqual(exposed(lazyMessage), exposed(full.message));
        assert.deepEqual(lazyMessage.topVia(), full.message.via()[0]);
        assert.equal(lazyMessage.fromTag(), tagOf(full.message.from()));
        assert.equal(lazyMessage.toTag(), tagOf(full.message.to()));
        assert.deepEqual(lazyMessage.headers, full.message.headers);
      });
    }
  }
  if (!full.ok) return false;
  const message = full.message;
  check('accessor-throws', 'a typed accessor of a fully checked message', () => {
    assert.deepEqual(parseAllTypedHeaders(message), []);
    message.contentLength();
  });
  check('round-trip', 'parse(serialize(m))', () => {
    const written = serializeMessage(message);
    const again = inspectMessage(written, { limits });
    assert.ok(again.ok, again.ok ? '' : again.faults.map((f) => `${f.code} ${f.detail}`).join('; '));
    assert.equal(again.message.kind, message.kind);
    assert.deepEqual(again.message.headers, message.headers);
    assert.deepEqual(Buffer.from(again.message.body), Buffer.from(message.body));
    assert.deepEqual(exposed(again.message), exposed(message));
    assert.deepEqual(again.message.via(), message.via());
    assert.deepEqual(serializeMessage(again.message), written);
  });
  return true;
}

/**
 * Feeds bytes to a framer cut at `cuts` (offsets, ascending): nothing may throw, a framing error
 * comes last and only once, what it frames parses as the same message whole, and the work done
 * stays linear in the bytes (StreamFramer.workBytes). Returns the messages framed.
 */
export function checkFramer(bytes: Uint8Array, cuts: readonly number[], limits?: Partial<SipLimits>): number {
  const framer = new StreamFramer(limits);
  const whole = new StreamFramer(limits).push(bytes);
  const items: FramedItem[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= from || cut > bytes.length) continue;
    if (framer.failed !== undefined) break;
    items.push(...framer.push(bytes.subarray(from, cut)));
    from = cut;
  }
  const errors = items.filter((i) => i.type === 'framing-error');
  if (errors.length > 1 || (errors.length === 1 && items[items.length - 1]?.type !== 'framing-error')) {
    throw new OracleViolation('framer', 'a framing error that is not the last item');
  }
  for (const e of errors) if (!(e.error instanceof FramingError)) throw new OracleViolation('framer', 'a framing error of another class');
  // However the bytes are cut, the messages framed are those framed from one read.
  const messages = (list: typeof items): Buffer[] => list.flatMap((i) => (i.type === 'message' ? [i.bytes] : []));
  check('framer', 'messages framed in chunks and whole', () => assert.deepEqual(messages(items), messages(whole)));
  // A few units of work a byte (see StreamFramer.workBytes), plus a read's own length each time.
  if (framer.workBytes > 8 * bytes.length + 64) throw new OracleViolation('work', `${framer.workBytes} units of framer work for ${bytes.length} bytes`);
  for (const m of messages(items)) checkParse(m, limits);
  return messages(items).length;
}
