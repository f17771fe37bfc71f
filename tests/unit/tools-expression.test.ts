import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateExpression, ExpressionError } from '../../server/tools/expression.js';

const calc = evaluateExpression;

describe('evaluateExpression: precedence and associativity', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['2 * 3 + 4 * 5', 26],
    ['7 % 4 * 2', 6],
    ['2 ^ 3 ^ 2', 512],
    ['(2 ^ 3) ^ 2', 64],
    ['2 * 3 ^ 2', 18],
    ['.5 + 1.25', 1.75],
    ['1e3 + 1', 1001],
    ['2.5E-1 * 4', 1],
  ])('%s = %d', (source, expected) => {
    expect(calc(source)).toBe(expected);
  });
});

describe('evaluateExpression: unary minus', () => {
  it.each([
    ['-3 + 5', 2],
    ['-2 ^ 2', -4],
    ['(-2) ^ 2', 4],
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['4 * -2', -8],
    ['-(3 - 10)', 7],
    ['+4', 4],
  ])('%s = %d', (source, expected) => {
    expect(calc(source)).toBe(expected);
  });
});

describe('evaluateExpression: functions and constants', () => {
  it.each([
    ['sqrt(16) + abs(-3)', 7],
    ['round(2.5) + floor(2.9) + ceil(2.1)', 3 + 2 + 3],
    ['min(4, 2, 8) * max(1, 9)', 18],
    ['log(1000)', 3],
    ['log(8, 2)', 3],
    ['ln(e)', 1],
    ['cos(0) + sin(0) + tan(0)', 1],
    ['SQRT(81)', 9],
    ['2 * pi', 2 * Math.PI],
  ])('%s', (source, expected) => {
    expect(calc(source)).toBeCloseTo(expected, 12);
  });
});

describe('evaluateExpression: errors', () => {
  it.each([
    ['', /empty expression/],
    ['1 +', /unexpected end of expression at position 4/],
    ['(1 + 2', /expected "\)" but found end of expression/],
    ['1 + 2)', /unexpected "\)" at position 6/],
    ['2 3', /unexpected number 3 at position 3/],
    ['4 / 0', /division by zero/],
    ['4 % 0', /remainder by zero/],
    ['sqrt(-1)', /not a real number/],
    ['foo(2)', /unknown name "foo" at position 1 \(functions: sqrt/],
    ['sqrt 4', /"sqrt" must be followed by "\("/],
    ['sqrt(1, 2)', /sqrt\(\) takes 1 argument, got 2/],
    ['log(1, 2, 3)', /log\(\) takes 1 to 2 arguments, got 3/],
    ['2 & 3', /unexpected character "&" at position 3/],
    ['2pi', /unexpected "pi" at position 2/],
  ])('%j fails clearly', (source, message) => {
    expect(() => calc(source)).toThrow(ExpressionError);
    expect(() => calc(source)).toThrow(message);
  });

  it('rejects results too large to represent instead of answering Infinity', () => {
    expect(() => calc('10 ^ 400')).toThrow(/too large/);
    expect(() => calc('9'.repeat(400))).toThrow(/too large/);
    expect(() => calc('2^2^2^2^2')).toThrow(/too large/);
  });

  it('caps length and nesting instead of overflowing the stack', () => {
    expect(() => calc(`1${'+1'.repeat(600)}`)).toThrow(/longer than 1000 characters/);
    expect(() => calc(`${'('.repeat(200)}1${')'.repeat(200)}`)).toThrow(/nested deeper than 64 levels/);
    expect(() => calc(`${'-'.repeat(200)}1`)).toThrow(/nested deeper/);
    expect(calc(`${'('.repeat(30)}1${')'.repeat(30)}`)).toBe(1);
  });
});

describe('evaluateExpression never evaluates code', () => {
  it('treats JavaScript as unknown names or characters', () => {
    expect(() => calc('constructor')).toThrow(/unknown name "constructor"/);
    expect(() => calc('process.exit(1)')).toThrow(ExpressionError);
    expect(() => calc('__proto__')).toThrow(/unknown name "__proto__"/);
    expect(() => calc('toString(1)')).toThrow(/unknown name "tostring"/);
    expect(() => calc('1; globalThis')).toThrow(/unexpected character ";"/);
  });

  it('has no eval or Function constructor in its source', () => {
    const source = readFileSync(new URL('../../server/tools/expression.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/\beval\s*\(|\bFunction\s*\(/);
  });
});
