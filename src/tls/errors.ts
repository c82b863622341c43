/**
 * Errors of the TLS verification layer: bad configuration and bad input, never a verification
 * outcome (a certificate that does not verify is a verdict, see verdict.ts).
 */
export type TlsErrorCode =
  | 'TLS_ERR_BAD_CERTIFICATE'
  | 'TLS_ERR_BAD_PEM'
  | 'TLS_ERR_BAD_TLSA'
  | 'TLS_ERR_BAD_POLICY'
  | 'TLS_ERR_EMPTY_CHAIN';

export class TlsError extends Error {
  readonly code: TlsErrorCode;
  constructor(code: TlsErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsError';
    this.code = code;
  }
}

/** A certificate whose DER does not parse as an X.509 certificate. */
export class BadCertificateError extends TlsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TLS_ERR_BAD_CERTIFICATE', message, options);
    this.name = 'BadCertificateError';
  }
}

/** PEM text without any certificate block, or with a block that is not base64. */
export class BadPemError extends TlsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TLS_ERR_BAD_PEM', message, options);
    this.name = 'BadPemError';
  }
}

/** A TLSA record in presentation form that does not parse ("U S M HEX"). */
export class BadTlsaError extends TlsError {
  constructor(message: string, options?: ErrorOptions) {
    super('TLS_ERR_BAD_TLSA', message, options);
    this.name = 'BadTlsaError';
  }
}

/** A policy field out of range; the message names the field. */
export class BadPolicyError extends TlsError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('TLS_ERR_BAD_POLICY', `${field}: ${message}`);
    this.name = 'BadPolicyError';
    this.field = field;
  }
}

/** A chain with no certificate at all was given to the verifier. */
export class EmptyChainError extends TlsError {
  constructor() {
    super('TLS_ERR_EMPTY_CHAIN', 'the peer chain holds no certificate');
    this.name = 'EmptyChainError';
  }
}
