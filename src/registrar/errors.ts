/** Base of every error thrown by src/registrar: a literal `code` and structured fields. */
export class RegistrarError extends Error {
  readonly code: RegistrarErrorCode;
  constructor(code: RegistrarErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistrarError';
    this.code = code;
  }
}

export type RegistrarErrorCode =
  /** The location backend cannot be reached or failed an operation: answer 500 with Retry-After. */
  | 'LOCATION_ERR_UNAVAILABLE'
  /** A location URL or option is wrong. */
  | 'LOCATION_ERR_CONFIG'
  /** The store was used after close(). */
  | 'LOCATION_ERR_CLOSED'
  /** users.yaml is unreadable or invalid; `issues` say where. */
  | 'USERS_ERR_INVALID';

/**
 * The location backend failed (Redis down or timing out, SQLite busy or failing): the operation
 * did not happen, or for a timed-out Redis write, may have. The proxy answers 500 with
 * Retry-After (LOCATION_LIMITS.unavailableRetryAfterSeconds); `cause` holds the backend's error.
 */
export class LocationUnavailableError extends RegistrarError {
  readonly backend: 'sqlite' | 'redis';
  constructor(backend: 'sqlite' | 'redis', operation: string, options?: ErrorOptions) {
    const detail = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super('LOCATION_ERR_UNAVAILABLE', `location store (${backend}) unavailable during ${operation}${detail}`, options);
    this.name = 'LocationUnavailableError';
    this.backend = backend;
  }
}
