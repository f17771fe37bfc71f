import type { FinishReason, Step } from './plan.js';

export interface RunSummary {
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  loadMs: number;
  promptMs: number;
  evalMs: number;
  totalMs: number;
}

/** Renders a paced reply onto one wire format (streamed or as one body). */
export interface ReplySink {
  /** Status line and headers; streams only (a buffered reply can still turn into an error). */
  open(): void;
  emit(step: Step): void;
  finish(summary: RunSummary): void;
  /** The backend failed mid-generation. */
  fail(message: string): void;
}
