import type { ServerResponse } from 'node:http';
import { sendJson } from './http.js';

/**
 * The error shapes of the three APIs the simulator speaks: Ollama native (`{"error":"..."}`),
 * Ollama's OpenAI layer and vLLM (both `{"error":{message,type,param,code}}`, typed differently).
 */
export type ErrorDialect = 'ollama' | 'ollama-openai' | 'vllm';

const VLLM_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

function ollamaOpenAiType(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  return status === 404 ? 'not_found_error' : 'api_error';
}

export function errorBody(dialect: ErrorDialect, status: number, message: string, param: string | null = null): unknown {
  if (dialect === 'ollama') return { error: message };
  if (dialect === 'ollama-openai') return { error: { message, type: ollamaOpenAiType(status), param, code: null } };
  return { error: { message, type: VLLM_TYPES[status] ?? 'InternalServerError', param, code: status } };
}

export function sendError(res: ServerResponse, dialect: ErrorDialect, status: number, message: string, param: string | null = null): void {
  sendJson(res, status, errorBody(dialect, status, message, param));
}

export function modelNotFoundMessage(dialect: ErrorDialect, model: string): string {
  return dialect === 'vllm' ? `The model \`${model}\` does not exist.` : `model "${model}" not found, try pulling it first`;
}
