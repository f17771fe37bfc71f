import { describe, expect, it } from 'vitest';
import { convertUnitsTool } from '../../server/tools/convert-units.js';
import { BUILTIN_TOOLS, ToolRegistry } from '../../server/tools/index.js';
import { runToolCall } from '../../server/tools/run-tool.js';
import { convertUnits, UnitOverflowError } from '../../server/tools/units.js';

const run = (value: number, from: string, to: string) =>
  convertUnitsTool.handler(convertUnitsTool.schema.parse({ value, from, to }), { signal: new AbortController().signal });

describe('convertUnits', () => {
  it.each([
    [5, 'km', 'mi', 3.10685596, 'length'],
    [6, 'ft', 'cm', 182.88, 'length'],
    [1, 'nmi', 'm', 1852, 'length'],
    [1, 'lb', 'g', 453.59237, 'mass'],
    [14, 'st', 'kg', 88.9041045, 'mass'],
    [100, 'C', 'F', 212, 'temperature'],
    [-40, 'F', 'C', -40, 'temperature'],
    [0, 'K', 'C', -273.15, 'temperature'],
    [98.6, 'F', 'K', 310.15, 'temperature'],
    [1, 'gal', 'l', 3.785411784, 'volume'],
    [1, 'cup', 'tbsp', 16, 'volume'],
    [100, 'km/h', 'm/s', 27.7777778, 'speed'],
    [60, 'mph', 'km/h', 96.56064, 'speed'],
    [1, 'GiB', 'MB', 1073.741824, 'data'],
    [8, 'bit', 'B', 1, 'data'],
    [1, 'week', 'h', 168, 'time'],
  ])('%d %s = %d %s', (value, from, to, expected, category) => {
    const conversion = convertUnits(value, from, to);
    expect(conversion.result).toBeCloseTo(expected, 6);
    expect(conversion.category).toBe(category);
  });

  it('reads names, plurals, any case and degree signs', () => {
    expect(convertUnits(1, 'Kilometres', 'METERS').result).toBe(1000);
    expect(convertUnits(212, '°F', 'degrees Celsius').result).toBeCloseTo(100, 10);
    expect(convertUnits(1, 'mb', 'kB').result).toBe(1000);
    expect(convertUnits(2, 'fluid ounces', 'ml').result).toBeCloseTo(59.147059, 5);
    expect(convertUnits(1, 'deg F', '° C').from).toBe('F');
  });

  it('lists the valid units by category when a unit is unknown', () => {
    expect(() => convertUnits(1, 'furlong', 'm')).toThrow(/^unknown unit "furlong"\. Valid units — length: mm, cm, m, km, in, ft, yd, mi, nmi; mass: .*; temperature: C, F, K; .*; data: bit, B, KB/);
  });

  it('refuses to mix categories or go below absolute zero', () => {
    expect(() => convertUnits(1, 'kg', 'm')).toThrow('cannot convert mass (kg) to length (m)');
    expect(() => convertUnits(-300, 'C', 'K')).toThrow('-300 C is below absolute zero');
  });
});

describe('convert_units tool', () => {
  it('answers with canonical symbols and a result rounded to 10 significant digits', async () => {
    expect(await run(100, 'fahrenheit', 'celsius')).toEqual({ value: 100, from: 'F', to: 'C', result: 37.77777778, category: 'temperature' });
  });

  it('rejects a non-finite value at the schema', () => {
    expect(convertUnitsTool.schema.safeParse({ value: Infinity, from: 'm', to: 'km' }).success).toBe(false);
  });
});

describe('convert_units overflow', () => {
  it('gives a typed error, not ok with a null result, when the result is beyond a double', async () => {
    expect(() => convertUnits(1e308, 'km', 'mm')).toThrow(UnitOverflowError);
    expect(() => convertUnits(-1e308, 'mi', 'in')).toThrow(RangeError);
    expect(() => convertUnits(1e308, 'TiB', 'bit')).toThrow('1e+308 TiB in bit is too large to represent');
    const outcome = await runToolCall(new ToolRegistry(BUILTIN_TOOLS), { id: 'c1', name: 'convert_units', arguments: { value: 1e308, from: 'km', to: 'mm' } });
    expect(outcome).toMatchObject({ ok: false, error: '1e+308 km in mm is too large to represent (beyond ±1.798e+308)' });
    // Just inside the range still converts.
    expect(await run(1e302, 'km', 'mm')).toMatchObject({ result: 1e308 });
  });
});
