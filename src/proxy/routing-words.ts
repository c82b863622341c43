/**
 * The words the proxy core puts in its Warning and Reason headers and in the `word` field of its
 * log lines (docs/VOCABULARY.md "Proxy routing"; src/vocabulary.test.ts checks this union against
 * that family). A hop that failed on the way out keeps the transport's or the TLS verdict's word.
 */
export type ProxyRoutingWord =
  | 'bad-request'
  | 'unsupported-uri-scheme'
  | 'too-many-hops'
  | 'loop-detected'
  | 'bad-extension'
  | 'relay-refused'
  | 'not-authorized'
  | 'not-found'
  | 'unknown-user'
  | 'not-registered'
  | 'flow-failed'
  | 'location-unavailable'
  | 'no-destination'
  | 'no-transaction'
  | 'no-target'
  | 'timer-c';

/** What the outbound hop may fail with before any send: no destination, or DNSSEC refusing the answers. */
export type DestinationFailureWord = Extract<ProxyRoutingWord, 'no-destination'> | 'dnssec-bogus' | 'dnssec-indeterminate' | Extract<HopPolicyWord, 'dnssec-required' | 'dane-required'>;

/**
 * The words of the hop-security policies (issue 15; docs/VOCABULARY.md "Hop policies"): each
 * refusal's Warning and Reason, and `alias-refused`, which is only logged.
 */
export type HopPolicyWord =
  | 'no-client-certificate'
  | 'from-domain-not-certified'
  | 'reverse-dns-mismatch'
  | 'via-sent-by-mismatch'
  | 'sips-not-deliverable'
  | 'dnssec-required'
  | 'dane-required'
  | 'alias-refused';
