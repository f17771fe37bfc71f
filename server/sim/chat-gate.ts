import type { ServerResponse } from 'node:http';
import type { SimEngine } from './engine.js';
import type { SimModel } from './models.js';
import { ChatRun, type ChatJob } from './run.js';
import type { ReplySink } from './sink.js';

export interface Refusal {
  status: number;
  message: string;
}

/** Why the backend turns a chat away before generating anything, if it does. */
export function refusalFor(engine: SimEngine, model: SimModel): Refusal | undefined {
  const refusal = reasonToRefuse(engine, model);
  if (refusal) engine.events.emit('refused', { model: model.name, ...refusal });
  return refusal;
}

function reasonToRefuse(engine: SimEngine, model: SimModel): Refusal | undefined {
  if (engine.faults.for(model.name).kind === 'unhealthy') return { status: 503, message: 'service unavailable: backend unhealthy' };
  if (engine.sleepMode.sleeping) return { status: 503, message: 'The engine is sleeping; call /wake_up first.' };
  if (engine.rejectsNewChats) return { status: 503, message: 'server busy' };
  return undefined;
}

export function startChat(engine: SimEngine, job: ChatJob, sink: ReplySink, res: ServerResponse): Promise<void> {
  return new ChatRun(engine, job, sink, res).execute();
}
