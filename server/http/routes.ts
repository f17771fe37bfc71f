import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isHttpsRequest, newSessionToken, sessionCookie } from '../../src/lib/server/session.js';
import { newId } from '../arena/ids.js';
import { handleImport, type ImportDeps } from './import-route.js';

export interface HttpDeps {
  logger: Logger;
  readiness(): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>;
  modelsReport(): unknown;
  /** Backends and deployments with health, queue depth and memory (GET /api/status). */
  status(): unknown;
  /** Lines of an export, produced lazily so a large export never sits in memory whole. */
  exportLines(kind: 'battles' | 'preferences'): AsyncIterable<string>;
  /** A board's daily snapshots (GET /api/leaderboard/history?category=…&excludeTies=…). */
  history(category: string, excludeTies: boolean): Promise<unknown>;
  /** Bearer token for /api/admin/*; undefined = admin API off. */
  adminToken?: string;
  exportAccess: 'public' | 'admin';
  admin: {
    config(): unknown;
    /** The full status, live traffic counters included. */
    status(): unknown;
    refreshModels(): Promise<unknown>;
    /** Vote hygiene: rules, flagged judges and recent exclusions (GET /api/admin/hygiene). */
    hygiene(): Promise<unknown>;
    /** FastChat battle files uploaded to POST /api/admin/import. */
    import: ImportDeps;
  };
}

export type Next = () => void;
type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** Arena's own HTTP endpoints; everything else falls through to the UI (SvelteKit). */
export function createHttpHandler(deps: HttpDeps): HttpHandler {
  const routes: Record<string, Route> = {
    'GET /healthz': (_req, res) => json(res, 200, { status: 'ok' }),
    'GET /readyz': async (_req, res) => {
      const r = await deps.readiness();
      json(res, r.ready ? 200 : 503, r);
    },
    // No /metrics here: it has its own listener (server/http/metrics-server.ts), never this port.
    'GET /api/models': (_req, res) => json(res, 200, deps.modelsReport()),
    'GET /api/status': (_req, res) => json(res, 200, deps.status()),
    'POST /api/session': (req, res) => {
      const token = newSessionToken();
      res.setHeader('set-cookie', sessionCookie(token, isHttpsRequest(req)));
      json(res, 201, { session: token });
    },
    'GET /api/leaderboard/history': async (req, res) => {
      const params = new URL(req.url ?? '/', 'http://arena').searchParams;
      const category = params.get('category') ?? 'overall';
      if (!/^[a-z_]+(:[a-z]{3})?$/.test(category) || category.length > 40) {
        return json(res, 400, { error: { code: 'bad_request', message: 'category: not a category' } });
      }
      json(res, 200, { category, excludeTies: params.get('excludeTies') === 'true', snapshots: await deps.history(category, params.get('excludeTies') === 'true') });
    },
    'GET /api/export/battles.jsonl': exportRoute('battles'),
    'GET /api/export/preferences.jsonl': exportRoute('preferences'),
    'GET /api/admin/config': adminOnly((_req, res) => json(res, 200, deps.admin.config())),
    'GET /api/admin/status': adminOnly((_req, res) => json(res, 200, deps.admin.status())),
    'POST /api/admin/refresh': adminOnly(async (_req, res) => json(res, 200, await deps.admin.refreshModels())),
    'GET /api/admin/hygiene': adminOnly(async (_req, res) => json(res, 200, await deps.admin.hygiene())),
    'POST /api/admin/import': adminOnly((req, res) => handleImport(req, res, deps.admin.import, (status, body) => json(res, status, body))),
  };

  function exportRoute(kind: 'battles' | 'preferences'): Route {
    const route: Route = (_req, res) => streamLines(res, deps.exportLines(kind), deps.logger);
    return deps.exportAccess === 'admin' ? adminOnly(route) : route;
  }

  function adminOnly(route: Route): Route {
    return (req, res) => {
      if (!deps.adminToken) return json(res, 404, { error: { code: 'not_found', message: 'The admin API is off: set ARENA_ADMIN_TOKEN.' } });
      if (!bearerMatches(req, deps.adminToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { error: { code: 'forbidden', message: 'Admin token required.' } });
      }
      return route(req, res);
    };
  }

  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[`${req.method} ${path}`];
    if (!route) return next();
    // A request id ties the log lines of one request together (and to the proxy's, when it sends one).
    const reqId = String(req.headers['x-request-id'] ?? '').slice(0, 64) || newId(8);
    const log = deps.logger.child({ reqId });
    const started = performance.now();
    res.setHeader('x-request-id', reqId);
    res.once('finish', () => log.debug({ method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http'));
    Promise.resolve(route(req, res)).catch((err) => {
      log.error({ err, path }, 'http handler failed');
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: 'internal error' } });
      else res.destroy();
    });
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

async function streamLines(res: ServerResponse, lines: AsyncIterable<string>, logger: Logger): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  try {
    for await (const line of lines) {
      if (!res.write(line + '\n')) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  } catch (err) {
    logger.error({ err }, 'export failed midway');
    res.destroy();
  }
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
