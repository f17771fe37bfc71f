/**
 * A standalone model simulator speaking the real Ollama and vLLM (OpenAI) protocols, so tests,
 * benchmarks and the demo run without model weights.
 */
export type { SimFault, SimModelSpec, SimOptions, SimRequestEvent, SimStreamEvent, Simulator } from './types.js';
export { startSimulator } from './server.js';
export { simulatedAnswer } from './answer.js';
export { DEMO_MODELS } from './models.js';
export { epochMicros, readStamps, stampToken, stripStamps } from './stamp.js';
