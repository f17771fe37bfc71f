import type { Handle } from '@sveltejs/kit';
import { SESSION_COOKIE } from '$shared/protocol';
import { isSessionToken, newSessionToken } from '../server/arena/ids';

/**
 * Every visitor gets an anonymous session: a 256-bit token in an httpOnly cookie, which the
 * Socket.IO handshake carries. Script on the page can never read it.
 */
export const handle: Handle = async ({ event, resolve }) => {
  if (!isSessionToken(event.cookies.get(SESSION_COOKIE))) {
    event.cookies.set(SESSION_COOKIE, newSessionToken(), {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: event.url.protocol === 'https:',
      maxAge: 60 * 60 * 24 * 365,
    });
  }
  const response = await resolve(event);
  // Share links carry a capability in their query: never send it to another site as a Referer.
  response.headers.set('referrer-policy', 'same-origin');
  response.headers.set('x-content-type-options', 'nosniff');
  return response;
};
