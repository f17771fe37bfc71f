import { z } from 'zod';
import type { SimEngine } from './engine.js';
import { sendJson } from './http.js';
import { readValidBody } from './request-schemas.js';
import type { RouteContext, Routes } from './router.js';
import type { SimFault } from './types.js';

const tokens = z.number().int().min(0);

const FaultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('down') }),
  z.object({ kind: z.literal('unhealthy') }),
  z.object({ kind: z.literal('hang') }),
  z.object({ kind: z.literal('die_after'), tokens }),
  z.object({ kind: z.literal('error_after'), tokens, message: z.string().optional() }),
  z.object({ kind: z.literal('slow'), factor: z.number().positive() }),
]);

const FaultRequest = z.object({
  fault: FaultSchema,
  model: z.string().optional(),
  /** Revert to {kind:'none'} after this long — the only way back up from 'down' for a remote caller. */
  forMs: z.number().positive().optional(),
});

export type SetFault = (fault: SimFault, model?: string) => void;

async function injectFault(setFault: SetFault, ctx: RouteContext): Promise<void> {
  const request = await readValidBody(ctx, FaultRequest, 'ollama');
  if (!request) return;
  const { fault, model, forMs } = request;
  const apply = () => {
    setFault(fault, model);
    if (forMs !== undefined) setTimeout(() => setFault({ kind: 'none' }, fault.kind === 'down' ? undefined : model), forMs).unref();
  };
  // 'down' waits until the answer is flushed: it would otherwise cut this very connection.
  if (fault.kind === 'down') ctx.res.once('finish', apply);
  else apply();
  sendJson(ctx.res, 200, { ok: true, fault, model: model ?? null });
}

/** Out-of-band control for other processes (benchmarks, the demo): inspect state, inject faults. */
export function adminRoutes(engine: SimEngine, setFault: SetFault): Routes {
  return {
    'GET /_sim/state': ({ res }) => sendJson(res, 200, { flavor: engine.flavor, ...engine.state(), faults: engine.faults.snapshot() }),
    'POST /_sim/fault': (ctx) => injectFault(setFault, ctx),
  };
}
