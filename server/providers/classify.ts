import { ProviderError, type ProviderErrorCode } from './errors.js';

/** Turns raw failures (HTTP statuses, socket errors, parse errors) into ProviderErrors. */

export function codeForHttpStatus(status: number): ProviderErrorCode {
  if (status === 404) return 'model_not_found';
  if (status === 429 || status === 503) return 'busy';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'server_error';
  return 'bad_request';
}

/** Reads a backend's error body (`{"error":"…"}`, `{"error":{"message":…}}` or `{"message":…}`). */
export function errorBodyMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const error = parsed.error as { message?: unknown } | string | undefined;
    const message = typeof error === 'string' ? error : (error?.message ?? parsed.message);
    if (typeof message === 'string' && message) return clip(message);
  } catch {
    // not JSON: fall back to the raw text
  }
  return clip(body.trim()) || '(empty body)';
}

export async function httpError(res: { status: number; text(): Promise<string> }, label: string): Promise<ProviderError> {
  const body = await res.text().catch(() => '');
  return new ProviderError(codeForHttpStatus(res.status), `${label}: HTTP ${res.status}: ${errorBodyMessage(body)}`, {
    status: res.status,
  });
}

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** Network-level failures (fetch/undici throw these wrapped in `cause` chains). */
export function classifyFailure(err: unknown, label: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = errorCodeInChain(err);
  const detail = failureDetail(err);
  if (code && REFUSED.has(code)) return new ProviderError('connection_refused', `${label}: ${detail}`, { cause: err });
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new ProviderError('connect_timeout', `${label}: ${detail}`, { cause: err });
  if ((code && RESET.has(code)) || (err instanceof Error && err.message === 'terminated'))
    return new ProviderError('connection_reset', `${label}: connection lost mid-stream (${detail})`, { cause: err });
  if (err instanceof SyntaxError) return new ProviderError('malformed', `${label}: unparseable chunk (${detail})`, { cause: err });
  return new ProviderError('server_error', `${label}: ${detail}`, { cause: err });
}

function errorCodeInChain(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string') return e.code;
    if (typeof e !== 'object') break;
  }
  return undefined;
}

/** The most specific message in a cause chain (undici hides `connect ECONNREFUSED …` in `cause`). */
export function failureDetail(err: unknown): string {
  let message = String(err);
  for (let e = err as { message?: unknown; cause?: unknown } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if (typeof e.message === 'string' && e.message) message = e.message;
  }
  return clip(message);
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
