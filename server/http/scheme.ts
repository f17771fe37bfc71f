import type { IncomingMessage } from 'node:http';

/**
 * Whether the browser reached Arena over HTTPS: the connection itself is TLS, or the proxy in
 * front says so in X-Forwarded-Proto (its first value, set by the proxy nearest the browser).
 * The one rule for every cookie Arena sets (the page's, POST /api/session's).
 *
 * The header is believed without `trustProxy`: its only effect is to add `Secure`, which a forger
 * can only use to break their own session, while ignoring it behind a TLS proxy would drop
 * `Secure` from every real visitor's cookie.
 */
export function isHttpsRequest(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  return forwardedProtoIsHttps(req.headers['x-forwarded-proto']);
}

export function forwardedProtoIsHttps(header: string | string[] | null | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  return (value ?? '').split(',')[0].trim().toLowerCase() === 'https';
}
