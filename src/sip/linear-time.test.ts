import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthValue } from './auth-headers.js';
import { parseContentType } from './content-type.js';
import { SipParseError } from './errors.js';
import { splitHeaderValues } from './header-scanner.js';
import { extractTag, parseContact, parseNameAddr, parseNameAddrByGrammar } from './name-addr.js';
import { inspectMessage } from './parse-message.js';
import { parseBoundedInt, parseCallId, parseCSeq, parseDate, parseRetryAfter } from './scalar-headers.js';
import { contentLengthsByLines } from './stream-framer.js';
import { parseUri, parseUriByGrammar } from './uri.js';
import { parseVia, parseViaByGrammar } from './via.js';
import { parseReason, parseWarning } from './warning-reason.js';

/**
 * issue-12 (1): no reader of peer text may take time quadratic in it (a backtracking regular
 * expression, a search restarted from the start). Each reader gets, for every prefix that leads
 * it into a rule, runs of RUN characters of the kinds that rules repeat, followed by a character
 * that fails the rule: at this size a quadratic reader needs at least 10^11 steps per input (many
 * minutes), a linear one milliseconds, so the test's timeout catches it without timing anything.
 */
const RUN = 300_000;

const READERS: ReadonlyArray<{ readonly name: string; readonly read: (text: string) => unknown; readonly prefixes: readonly string[] }> = [
  { name: 'parseVia', read: parseVia, prefixes: ['', 'SIP/2.0/UDP ', 'SIP/2.0/UDP h', 'SIP/2.0/UDP h;a=', 'SIP / 2.0 / UDP [::1]'] },
  { name: 'parseViaByGrammar', read: parseViaByGrammar, prefixes: ['SIP/2.0/UDP h', 'SIP/2.0/UDP h;a="'] },
  { name: 'parseNameAddr', read: (t) => parseNameAddr(t, 'to'), prefixes: ['', '"', 'a ', '<sip:a@b', '<sip:a@b>', 'sip:', 'sip:a@b;x='] },
  { name: 'parseNameAddrByGrammar', read: (t) => parseNameAddrByGrammar(t, 'to'), prefixes: ['', 'a ', '<sip:a@b>;x='] },
  { name: 'parseContact', read: (t) => parseContact(t, 'contact'), prefixes: ['', '*'] },
  { name: 'extractTag', read: (t) => extractTag(t, 'from'), prefixes: ['', '"', '<sip:a@b>;tag=', '<sip:a@b>;'] },
  { name: 'parseUri', read: parseUri, prefixes: ['sip:', 'sip:a@', 'sip:a@b;', 'sip:a@b;x=', 'sip:a@b?', 'tel:', 'tel:+', 'tel:+1;', 'x:', 'sips:[', ''] },
  { name: 'parseUriByGrammar', read: parseUriByGrammar, prefixes: ['sip:', 'sip:a@b;', 'tel:+'] },
  { name: 'parseCSeq', read: parseCSeq, prefixes: ['', '1', '1 '] },
  { name: 'parseCallId', read: parseCallId, prefixes: ['', 'a', 'a@'] },
  { name: 'parseBoundedInt', read: (t) => parseBoundedInt(t, 255, 'max-forwards'), prefixes: ['', '0'] },
  { name: 'parseDate', read: parseDate, prefixes: ['', 'Mon, '] },
  { name: 'parseRetryAfter', read: parseRetryAfter, prefixes: ['', '1', '1 (', '1;a', '1;a=', '1 (c) ;a = '] },
  { name: 'parseWarning', read: parseWarning, prefixes: ['', '399 ', '399 h ', '399 h "'] },
  { name: 'parseReason', read: parseReason, prefixes: ['', 'SIP', 'SIP;cause=', 'SIP;text="'] },
  { name: 'parseAuthValue', read: (t) => parseAuthValue(t, 'authorization'), prefixes: ['', 'Digest ', 'Digest a', 'Digest a=', 'Basic QQ', 'Digest a="'] },
  { name: 'parseContentType', read: parseContentType, prefixes: ['', 'a/b', 'a/b;c='] },
  { name: 'splitHeaderValues', read: (t) => splitHeaderValues(t, 1_000_000, 'via'), prefixes: ['', '"', '<'] },
  { name: 'contentLengthsByLines', read: (t) => contentLengthsByLines(Buffer.from(`X\r\n${t}\r\n\r\n`, 'latin1')), prefixes: ['l:', 'Content-Length', 'l: 1'] },
];

/** What rules repeat: white space, token, digit and escape runs, separators, quotes, brackets. */
const UNITS = [' ', '\t', 'a', '1', '1.', ';a', ';a=b', '%41', '"', '\\"', '<', ',', '\xa0'];
/** What ends a run badly. */
const ENDINGS = ['', 'x', '\x00', '"'];

for (const reader of READERS) {
  test(`issue-12: ${reader.name} reads runs of repeated characters in linear time`, { timeout: 120_000 }, () => {
    for (const prefix of reader.prefixes) {
      for (const unit of UNITS) {
        const run = unit.repeat(Math.ceil(RUN / unit.length));
        for (const ending of ENDINGS) {
          try {
            reader.read(prefix + run + ending);
          } catch (err) {
            if (!(err instanceof SipParseError)) throw err;
          }
        }
      }
    }
  });
}

test('issue-12: whole messages with huge runs in every header are read in linear time', { timeout: 120_000 }, () => {
  const limits = { maxMessageBytes: 4 * RUN, maxHeaderSectionBytes: 4 * RUN, maxLineBytes: 4 * RUN };
  const headers = ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Route', 'Retry-After', 'Date', 'Warning', 'Reason', 'Authorization', 'Content-Type', 'Max-Forwards', 'Content-Length', 'Require', 'X-Other'];
  const base = 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n';
  for (const name of headers) {
    for (const unit of [' ', '\t', 'a', '1', ';a', '"', ' \r\n ']) {
      const text = `INVITE sip:a@b SIP/2.0\r\n${base}${name}: 1${unit.repeat(Math.ceil(RUN / unit.length))}x\r\n\r\n`;
      for (const depth of ['full', 'lazy'] as const) {
        const result = inspectMessage(Buffer.from(text), { depth, limits });
        try {
          if (result.ok) result.message.via();
        } catch (err) {
          if (!(err instanceof SipParseError)) throw err;
        }
      }
    }
  }
  assert.ok(true);
});
