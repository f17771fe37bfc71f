import { z } from 'zod';
import { evaluateExpression, MAX_EXPRESSION_LENGTH } from './expression.js';
import { defineTool } from './tool.js';

/** 12 significant digits hide binary noise (0.1 + 0.2 = 0.3) and keep every digit that means something. */
export function roundForDisplay(value: number, digits = 12): number {
  return Number(value.toPrecision(digits));
}

export const calculator = defineTool({
  name: 'calculator',
  description:
    'Evaluates an arithmetic expression exactly. Operators: + - * / ^ (power) % (remainder), parentheses, unary minus. ' +
    'Functions: sqrt abs round floor ceil min max log (base 10, or log(x, base)) ln sin cos tan (radians). Constants: pi, e.',
  schema: z.object({
    expression: z.string().min(1).max(MAX_EXPRESSION_LENGTH).describe('e.g. "(12.5 * 4) ^ 2 / sqrt(16)"'),
  }),
  timeoutMs: 1_000,
  handler: async ({ expression }) => ({ expression, result: roundForDisplay(evaluateExpression(expression)) }),
});
