/**
 * Arithmetic expressions for the calculator tool: a tokenizer and a Pratt parser that evaluates
 * as it parses. Never uses eval. Grammar, loosest binding first:
 *   + -        left-associative
 *   * / %      left-associative (% is the remainder)
 *   unary -    so that -2^2 = -(2^2), as in maths
 *   ^          right-associative: 2^3^2 = 2^(3^2)
 *   atoms      numbers (1, 1.5, .5, 1e3), constants pi and e, calls f(a, b), ( … )
 */

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** Input limits: a model-written expression this long or this deep is a mistake, not a sum. */
export const MAX_EXPRESSION_LENGTH = 1_000;
const MAX_DEPTH = 64;

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'name'; name: string; at: number }
  | { kind: 'op'; op: string; at: number }
  | { kind: 'end'; at: number };

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?/i;
const NAME = /^[a-z_][a-z0-9_]*/i;
const OPERATORS = new Set(['+', '-', '*', '/', '%', '^', '(', ')', ',']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    const name = number ? null : NAME.exec(rest);
    if (number) tokens.push({ kind: 'number', value: Number(number[0]), at });
    else if (name) tokens.push({ kind: 'name', name: name[0].toLowerCase(), at });
    else if (OPERATORS.has(rest[0]!)) tokens.push({ kind: 'op', op: rest[0]!, at });
    else throw new ExpressionError(`unexpected character "${rest[0]}" at position ${at + 1}`);
    at += number?.[0].length ?? name?.[0].length ?? 1;
  }
  tokens.push({ kind: 'end', at });
  return tokens;
}

// Maps, not object literals: a name like "constructor" must not find Object.prototype.
const CONSTANTS = new Map<string, number>([
  ['pi', Math.PI],
  ['e', Math.E],
]);

interface MathFunction {
  /** Allowed argument counts: [min, max]. */
  arity: [number, number];
  apply(args: number[]): number;
}

const unary = (f: (x: number) => number): MathFunction => ({ arity: [1, 1], apply: ([x]) => f(x!) });

const FUNCTIONS = new Map<string, MathFunction>([
  ['sqrt', unary(Math.sqrt)],
  ['abs', unary(Math.abs)],
  ['round', unary(Math.round)],
  ['floor', unary(Math.floor)],
  ['ceil', unary(Math.ceil)],
  ['ln', unary(Math.log)],
  ['sin', unary(Math.sin)],
  ['cos', unary(Math.cos)],
  ['tan', unary(Math.tan)],
  // log(x) is base 10; log(x, b) is base b.
  ['log', { arity: [1, 2], apply: ([x, base]) => (base === undefined ? Math.log10(x!) : Math.log(x!) / Math.log(base)) }],
  ['min', { arity: [1, Infinity], apply: (args) => Math.min(...args) }],
  ['max', { arity: [1, Infinity], apply: (args) => Math.max(...args) }],
]);

/** Binding powers of the infix operators; ^ binds its right side one step looser, hence right-associative. */
const INFIX: Record<string, { left: number; right: number }> = {
  '+': { left: 10, right: 11 },
  '-': { left: 10, right: 11 },
  '*': { left: 20, right: 21 },
  '/': { left: 20, right: 21 },
  '%': { left: 20, right: 21 },
  '^': { left: 40, right: 39 },
};
const PREFIX_MINUS_POWER = 30;

function applyInfix(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      if (b === 0) throw new ExpressionError('division by zero');
      return a / b;
    case '%':
      if (b === 0) throw new ExpressionError('remainder by zero');
      return a % b;
    default:
      return a ** b;
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.value}`;
    case 'name':
      return `"${token.name}"`;
    case 'op':
      return `"${token.op}"`;
    default:
      return 'end of expression';
  }
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): number {
    const value = this.parse(0);
    const next = this.peek();
    if (next.kind !== 'end') throw this.unexpected(next);
    return value;
  }

  private parse(minPower: number): number {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression nested deeper than ${MAX_DEPTH} levels`);
    let left = this.prefix();
    for (;;) {
      const next = this.peek();
      if (next.kind !== 'op') break;
      const power = INFIX[next.op];
      if (!power || power.left < minPower) break;
      this.index++;
      left = applyInfix(next.op, left, this.parse(power.right));
    }
    this.depth--;
    return left;
  }

  private prefix(): number {
    const token = this.next();
    if (token.kind === 'number') return token.value;
    if (token.kind === 'name') return this.named(token.name, token.at);
    if (token.kind === 'op' && token.op === '-') return -this.parse(PREFIX_MINUS_POWER);
    if (token.kind === 'op' && token.op === '+') return this.parse(PREFIX_MINUS_POWER);
    if (token.kind === 'op' && token.op === '(') {
      const value = this.parse(0);
      this.expect(')');
      return value;
    }
    throw this.unexpected(token);
  }

  private named(name: string, at: number): number {
    const fn = FUNCTIONS.get(name);
    if (fn) return this.call(name, fn);
    const constant = CONSTANTS.get(name);
    if (constant !== undefined) return constant;
    throw new ExpressionError(
      `unknown name "${name}" at position ${at + 1} (functions: ${[...FUNCTIONS.keys()].join(', ')}; constants: pi, e)`,
    );
  }

  private call(name: string, fn: MathFunction): number {
    this.expect('(', `"${name}" must be followed by "("`);
    const args = [this.parse(0)];
    while (this.peekOp(',')) {
      this.index++;
      args.push(this.parse(0));
    }
    this.expect(')');
    const [min, max] = fn.arity;
    if (args.length < min || args.length > max) {
      const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new ExpressionError(`${name}() takes ${wanted} argument${min === 1 && max === 1 ? '' : 's'}, got ${args.length}`);
    }
    return fn.apply(args);
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private peekOp(op: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.op === op;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private expect(op: string, message?: string): void {
    const token = this.next();
    if (token.kind === 'op' && token.op === op) return;
    throw new ExpressionError(message ?? `expected "${op}" but found ${describe(token)} at position ${token.at + 1}`);
  }

  private unexpected(token: Token): ExpressionError {
    return new ExpressionError(`unexpected ${describe(token)} at position ${token.at + 1}`);
  }
}

/** Evaluates an expression; throws ExpressionError with a message fit to show the model or the user. */
export function evaluateExpression(source: string): number {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  if (source.trim() === '') throw new ExpressionError('empty expression');
  const value = new Parser(tokenize(source)).parseAll();
  if (Number.isNaN(value)) throw new ExpressionError('the result is not a real number');
  if (!Number.isFinite(value)) throw new ExpressionError('the result is too large to represent');
  return value;
}
