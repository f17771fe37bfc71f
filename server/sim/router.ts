import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
}

export type Handler = (ctx: RouteContext) => void | Promise<void>;

/** Handlers keyed by `METHOD /path`. */
export type Routes = Record<string, Handler>;

export function routeKey(method: string | undefined, pathname: string): string {
  return `${method === 'HEAD' ? 'GET' : (method ?? 'GET')} ${pathname}`;
}
