/** Base of every error thrown by src/dns: a literal `code` and structured fields, never parsed text. */
export class DnsError extends Error {
  readonly code: DnsErrorCode;
  constructor(code: DnsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DnsError';
    this.code = code;
  }
}

export type DnsErrorCode =
  /** A resolver configuration field is missing, of the wrong type or out of range. */
  | 'DNS_ERR_CONFIG'
  /** The chosen backend cannot run here (the native `unbound` module is not installed). */
  | 'DNS_ERR_BACKEND_UNAVAILABLE'
  /** libunbound refused the configuration (a bad config file, trust anchor or option). */
  | 'DNS_ERR_BACKEND_CONFIG'
  /** A name that is not a valid DNS name was asked for. */
  | 'DNS_ERR_BAD_NAME'
  /** The locator was given a target it cannot resolve (bad transport parameter, sips over UDP). */
  | 'DNS_ERR_BAD_TARGET'
  /** The resolver was used after close(). */
  | 'DNS_ERR_CLOSED';

/** A configuration mistake; `field` names the offending field. */
export class DnsConfigError extends DnsError {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('DNS_ERR_CONFIG', `${field}: ${message}`, options);
    this.name = 'DnsConfigError';
    this.field = field;
  }
}
