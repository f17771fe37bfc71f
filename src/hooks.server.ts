import type { Handle } from '@sveltejs/kit';
import type { IncomingMessage } from 'node:http';
import {
  forwardedProtoIsHttps,
  isHttpsRequest,
  isSessionToken,
  newSessionToken,
  SESSION_COOKIE,
  sessionCookieOptions,
} from '$lib/server/session';

/**
 * Every visitor gets an anonymous session: a 256-bit token in an httpOnly cookie, which the
 * Socket.IO handshake carries. Script on the page can never read it.
 */
export const handle: Handle = async ({ event, resolve }) => {
  if (!isSessionToken(event.cookies.get(SESSION_COOKIE))) {
    event.cookies.set(SESSION_COOKIE, newSessionToken(), sessionCookieOptions(isHttps(event)));
  }
  const response = await resolve(event);
  // Share links carry a capability in their query: never send it to another site as a Referer.
  response.headers.set('referrer-policy', 'same-origin');
  response.headers.set('x-content-type-options', 'nosniff');
  return response;
};

/**
 * `Secure` follows the real scheme. Not `event.url`: without ORIGIN, adapter-node reports https for
 * every request, and a browser at http://gpu-box:3000 then drops the cookie. adapter-node hands
 * over the Node request as `platform.req`; the Vite dev server has none, and its URL is right.
 */
function isHttps(event: Parameters<Handle>[0]['event']): boolean {
  const req = (event.platform as { req?: IncomingMessage } | undefined)?.req;
  if (req) return isHttpsRequest(req);
  return event.url.protocol === 'https:' || forwardedProtoIsHttps(event.request.headers.get('x-forwarded-proto'));
}
