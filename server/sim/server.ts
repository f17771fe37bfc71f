import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SimEngine } from './engine.js';
import { sendError, type ErrorDialect } from './errors.js';
import { sendJson, sendText } from './http.js';
import { Listener } from './listener.js';
import { routeKey, type Routes } from './router.js';
import { adminRoutes } from './routes-admin.js';
import { ollamaRoutes } from './routes-ollama.js';
import { openAiRoutes } from './routes-openai.js';
import { vllmRoutes } from './routes-vllm.js';
import type { SimFault, SimOptions, Simulator } from './types.js';

function validateOptions(options: SimOptions): void {
  if (options.models.length === 0) throw new Error('simulator needs at least one model');
  const names = new Set(options.models.map((model) => model.name));
  if (names.size !== options.models.length) throw new Error('simulator model names must be unique');
  const stalled = options.models.find((model) => model.tokensPerSecond !== undefined && !(model.tokensPerSecond > 0));
  if (stalled) throw new Error(`${stalled.name}: tokensPerSecond must be positive`);
}

/** Each real server's answer to an unknown path: Go's plain text, FastAPI's JSON. */
function sendNotFound(res: ServerResponse, flavor: SimOptions['flavor']): void {
  if (flavor === 'ollama') sendText(res, 404, '404 page not found');
  else sendJson(res, 404, { detail: 'Not Found' });
}

function isAuthorized(req: IncomingMessage, pathname: string, apiKey: string | undefined): boolean {
  return !apiKey || !pathname.startsWith('/v1/') || req.headers.authorization === `Bearer ${apiKey}`;
}

function dialectFor(pathname: string, flavor: SimOptions['flavor']): ErrorDialect {
  if (flavor === 'vllm') return 'vllm';
  return pathname.startsWith('/v1/') ? 'ollama-openai' : 'ollama';
}

function createRequestHandler(routes: Routes, options: SimOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const dialect = dialectFor(url.pathname, options.flavor);
    if (!isAuthorized(req, url.pathname, options.apiKey)) return sendError(res, dialect, 401, 'Unauthorized: invalid or missing API key');
    const handler = routes[routeKey(req.method, url.pathname)];
    if (!handler) return sendNotFound(res, options.flavor);
    Promise.resolve(handler({ req, res, url })).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendError(res, dialect, 500, `simulator error: ${(error as Error).message}`);
    });
  };
}

/** Starts a simulated Ollama or vLLM server (see types.ts for the options and the returned handle). */
export async function startSimulator(options: SimOptions): Promise<Simulator> {
  validateOptions(options);
  const engine = new SimEngine(options);
  const host = options.host ?? '127.0.0.1';
  let closed = false;
  // Listener transitions run one after another, whatever order setFault calls arrive in.
  let transitions = Promise.resolve();
  const transition = (step: () => Promise<void>, event: 'up' | 'down') => {
    transitions = transitions.then(step).then(
      () => void engine.events.emit(event),
      (error: unknown) => void engine.events.emit('listen-error', error),
    );
  };

  const setFault = (fault: SimFault, model?: string): void => {
    if (closed) return;
    const wasDown = engine.faults.isDown;
    engine.faults.set(fault, model);
    if (!wasDown && engine.faults.isDown) {
      engine.abortAll();
      transition(() => listener.down(), 'down');
    } else if (wasDown && !engine.faults.isDown) {
      transition(() => listener.up(), 'up');
    }
  };

  const routes: Routes = {
    ...(options.flavor === 'ollama' ? ollamaRoutes(engine) : vllmRoutes(engine)),
    ...openAiRoutes(engine),
    ...adminRoutes(engine, setFault),
  };
  const listener = new Listener(createServer(createRequestHandler(routes, options)), host, options.port ?? 0);
  await listener.up();
  const port = listener.boundPort;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    setFault,
    events: engine.events,
    state: () => engine.state(),
    async close() {
      if (closed) return;
      closed = true;
      engine.close();
      await transitions;
      await listener.down();
    },
  };
}
