/** Every backend failure becomes one of these codes; callers branch on `code` and `retryable`. */
export type ProviderErrorCode =
  | 'model_not_found' // 404 / unknown model
  | 'busy' // 503 / 429 / queue full
  | 'bad_request' // 400 / 422
  | 'auth' // 401 / 403
  | 'server_error' // other 5xx, or an error reported inside a 200 stream
  | 'connection_refused'
  | 'connection_reset' // dropped mid-stream
  | 'malformed' // a chunk we cannot parse
  | 'connect_timeout'
  | 'first_token_timeout'
  | 'idle_timeout'
  | 'too_slow' // served, but below health.minTokensPerSecond (counts against the deployment)
  | 'aborted'; // caller's AbortSignal

const RETRYABLE: Record<ProviderErrorCode, boolean> = {
  model_not_found: false,
  busy: true,
  bad_request: false,
  auth: false,
  server_error: true,
  connection_refused: true,
  connection_reset: true,
  malformed: true,
  connect_timeout: true,
  first_token_timeout: true,
  idle_timeout: true,
  too_slow: true,
  aborted: false,
};

export class ProviderError extends Error {
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly status?: number;

  constructor(code: ProviderErrorCode, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ProviderError';
    this.code = code;
    this.retryable = RETRYABLE[code];
    this.status = opts.status;
  }
}

export function isRetryable(code: ProviderErrorCode): boolean {
  return RETRYABLE[code];
}
