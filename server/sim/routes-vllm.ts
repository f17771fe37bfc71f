import type { SimEngine } from './engine.js';
import { sendJson, sendText } from './http.js';
import { createVllmMetrics } from './metrics.js';
import type { Routes } from './router.js';

const VLLM_VERSION = '0.11.0';

/** vLLM's operational endpoints; the sleep ones exist only with --enable-sleep-mode. */
export function vllmRoutes(engine: SimEngine): Routes {
  const metrics = createVllmMetrics(engine);
  const routes: Routes = {
    'GET /health': ({ res }) => sendText(res, engine.faults.serverWide.kind === 'unhealthy' ? 503 : 200, ''),
    'GET /version': ({ res }) => sendJson(res, 200, { version: VLLM_VERSION }),
    'GET /metrics': async ({ res }) => sendText(res, 200, await metrics.metrics(), metrics.contentType),
  };
  if (!engine.options.sleepMode) return routes;
  return {
    ...routes,
    'POST /sleep': async ({ res, url }) => {
      engine.events.emit('sleep-request', { running: engine.state().inFlight });
      await engine.sleepMode.sleep(url.searchParams.get('level') === '2' ? 2 : 1);
      sendText(res, 200, '');
    },
    'POST /wake_up': async ({ res }) => {
      await engine.sleepMode.wakeUp();
      sendText(res, 200, '');
    },
    'GET /is_sleeping': ({ res }) => sendJson(res, 200, { is_sleeping: engine.sleepMode.sleeping }),
  };
}
