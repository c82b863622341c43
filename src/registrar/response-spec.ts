/** One header field of a response the registrar or authenticator decided on, in order. */
export interface HeaderLine {
  readonly name: string;
  readonly value: string;
}

/**
 * A response to send, as plain data: the transaction user copies it onto the response it builds
 * from the request (Via, From, To with its tag, Call-ID, CSeq come from there, RFC 3261 section 8.2.6).
 */
export interface ResponseSpec {
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly HeaderLine[];
}
