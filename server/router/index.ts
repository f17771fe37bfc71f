/** Decides per prompt: the arena (two blind models) or a tool-calling model. */
export { createRouter, type Router, type RouterOptions } from './router.js';
export type { LlmRouterOptions } from './llm.js';
export type { Route, RouteDecision, RouteLayer, RouteMode } from './types.js';
