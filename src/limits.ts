/**
 * Every default and limit of sipsec, one frozen object per layer.
 * Constructors merge user options over these once; nothing else hard-codes a number.
 * This module imports nothing so that every layer may read it.
 */

/** Limits of the SIP message parser and stream framer. */
export const SIP_LIMITS = Object.freeze({
  /**
   * Largest message accepted, start line to end of body. RFC 3261 section 18.1.1 keeps UDP
   * requests under 1300 bytes unless the path MTU allows more; streams carry larger bodies
   * (SDP with many codecs, multipart). 64 KiB is the largest UDP datagram and ample for SIP.
   */
  maxMessageBytes: 65_535,
  /** Header fields (lines, after unfolding) in one message; hostile peers send thousands. */
  maxHeaderCount: 256,
  /** One header line after unfolding; the longest legitimate values are Via/Route lists. */
  maxLineBytes: 16_384,
  /** Comma-separated values in one header field (e.g. Contact in a REGISTER). */
  maxHeaderValues: 512,
  /** Bytes kept while waiting for the end of a header section on a stream. */
  maxHeaderSectionBytes: 65_535,
});

export type SipLimits = { readonly [K in keyof typeof SIP_LIMITS]: number };
