import type { SipMessage, SipRequest } from '../sip/message.js';
import { expandIPv6, uriEquals } from '../sip/uri.js';
import { BRANCH_MAGIC_COOKIE, branchOf, type Via } from '../sip/via.js';

/**
 * Transaction keys, RFC 3261 sections 17.1.3 and 17.2.3. Keys are strings so that the layer
 * finds a transaction with one Map look-up; requests without an RFC 3261 branch (RFC 2543 peers)
 * have no server key and are matched by the predicates below instead.
 */

/** Whether a branch was made by an RFC 3261 client: it begins with the magic cookie (section 8.1.1.7). */
export function hasMagicCookie(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(BRANCH_MAGIC_COOKIE) && branch.length > BRANCH_MAGIC_COOKIE.length;
}

/**
 * clientTxKey (section 17.1.3): the top Via branch and the CSeq method. For a request this is the
 * key of the transaction it starts; for a response, of the transaction it belongs to. A CANCEL
 * shares the INVITE's branch and differs by method, so each has its own transaction. Parameter
 * values are case-insensitive (section 7.3.1), so the branch is lower-cased.
 */
export function clientTxKey(message: SipMessage): string | undefined {
  const via = safe(() => message.topVia());
  const branch = via === undefined ? undefined : branchOf(via);
  if (branch === undefined) return undefined;
  const method = message.kind === 'request' ? message.method : safe(() => message.cseq().method);
  if (method === undefined) return undefined;
  return `${branch.toLowerCase()} ${method}`;
}

/**
 * serverTxKey (section 17.2.3): the top Via branch, its sent-by and the method, where an ACK
 * takes the method INVITE (it belongs to the INVITE transaction). Undefined when the branch lacks
 * the magic cookie: such a request is matched with matchRfc2543Request.
 */
export function serverTxKey(request: SipRequest): string | undefined {
  return serverKeyWithMethod(request, request.method === 'ACK' ? 'INVITE' : request.method);
}

/**
 * The server key of the INVITE transaction a CANCEL cancels (section 9.2: apply 17.2.3 as if the
 * method were not CANCEL; for the INVITE server transaction that is INVITE; section 16.10 for proxies).
 */
export function cancelTargetKey(cancel: SipRequest): string | undefined {
  return serverKeyWithMethod(cancel, 'INVITE');
}

function serverKeyWithMethod(request: SipRequest, method: string): string | undefined {
  const via = safe(() => request.topVia());
  if (via === undefined) return undefined;
  const branch = branchOf(via);
  if (!hasMagicCookie(branch)) return undefined;
  return `${branch.toLowerCase()} ${sentByKey(via)} ${method}`;
}

/** sent-by compared as host (case-insensitive, IPv6 expanded) and port as written. */
function sentByKey(via: Via): string {
  const host = via.hostKind === 'ipv6' ? `[${expandIPv6(via.host)}]` : via.host.toLowerCase();
  return via.port === undefined ? host : `${host}:${via.port}`;
}

/**
 * The fields every RFC 2543 rule below requires equal (Call-ID, CSeq number, From tag), as one
 * string: the layer indexes RFC 2543 transactions by it so that matching scans one bucket, not the
 * whole table (STYLE "Bound CPU"). Undefined when a field is missing or malformed.
 */
export function rfc2543BucketKey(request: SipRequest): string | undefined {
  return safe(() => `${request.callId()} ${request.cseq().seq} ${request.fromTag() ?? ''}`);
}

/**
 * RFC 2543 request matching (section 17.2.3, for a top Via branch without the magic cookie): an
 * INVITE or any other request matches the transaction created by `original` when the
 * Request-URI, To tag, From tag, Call-ID, CSeq (number and method) and top Via match.
 */
export function matchRfc2543Request(original: SipRequest, incoming: SipRequest): boolean {
  return (
    incoming.method === original.method &&
    safe(() => incoming.cseq().method === original.cseq().method) === true &&
    commonFieldsMatch(original, incoming) &&
    safe(() => incoming.toTag() === original.toTag()) === true
  );
}

/**
 * RFC 2543 ACK matching (section 17.2.3): the ACK matches the INVITE transaction when the
 * Request-URI, From tag, Call-ID, CSeq number and top Via match the INVITE's, and its To tag is
 * the To tag of the response the server transaction sent (`responseToTag`).
 */
export function matchRfc2543Ack(original: SipRequest, responseToTag: string | undefined, ack: SipRequest): boolean {
  return (
    ack.method === 'ACK' &&
    original.method === 'INVITE' &&
    commonFieldsMatch(original, ack) &&
    safe(() => ack.toTag() === responseToTag) === true
  );
}

/**
 * RFC 2543 CANCEL matching (section 9.2 with 17.2.3): the CANCEL matches the INVITE as if it were
 * that INVITE again: Request-URI, To tag, From tag, Call-ID, CSeq number and top Via.
 */
export function matchRfc2543Cancel(original: SipRequest, cancel: SipRequest): boolean {
  return (
    cancel.method === 'CANCEL' &&
    original.method === 'INVITE' &&
    commonFieldsMatch(original, cancel) &&
    safe(() => cancel.toTag() === original.toTag()) === true
  );
}

/** Request-URI (section 19.1.4), From tag, Call-ID (case-sensitive, 20.8), CSeq number, top Via (20.42). */
function commonFieldsMatch(a: SipRequest, b: SipRequest): boolean {
  return (
    safe(
      () =>
        uriEquals(a.uri, b.uri) &&
        a.fromTag() === b.fromTag() &&
        a.callId() === b.callId() &&
        a.cseq().seq === b.cseq().seq &&
        viaEquals(a.topVia(), b.topVia()),
    ) === true
  );
}

/**
 * Via equality (sections 20.42 and 7.3.1): protocol, version, transport and host case-insensitive,
 * port equal, and the same parameters with case-insensitive names and values.
 */
export function viaEquals(a: Via | undefined, b: Via | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a.protocol.toUpperCase() !== b.protocol.toUpperCase() || a.version !== b.version || a.transport !== b.transport) return false;
  if (sentByKey(a) !== sentByKey(b)) return false;
  if (a.params.length !== b.params.length) return false;
  return a.params.every((p) => {
    const other = b.params.find((q) => q.name.toLowerCase() === p.name.toLowerCase());
    return other !== undefined && (other.value ?? '').toLowerCase() === (p.value ?? '').toLowerCase();
  });
}

/** Header accessors throw on malformed headers; a malformed header matches nothing. */
function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
