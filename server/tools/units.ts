/**
 * Unit tables and conversion. Each unit maps to its category's base unit linearly:
 * base = value * factor + offset (the offset is only non-zero for temperatures, base kelvin).
 */

export type UnitCategory = 'length' | 'mass' | 'temperature' | 'volume' | 'speed' | 'data' | 'time';

interface UnitDefinition {
  symbol: string;
  category: UnitCategory;
  factor: number;
  offset?: number;
  /** Other spellings, lower case; the symbol itself always matches. */
  aliases: string[];
}

const unit = (symbol: string, category: UnitCategory, factor: number, aliases: string[], offset?: number): UnitDefinition => ({
  symbol,
  category,
  factor,
  offset,
  aliases,
});

const UNITS: UnitDefinition[] = [
  unit('mm', 'length', 0.001, ['millimeter', 'millimeters', 'millimetre', 'millimetres']),
  unit('cm', 'length', 0.01, ['centimeter', 'centimeters', 'centimetre', 'centimetres']),
  unit('m', 'length', 1, ['meter', 'meters', 'metre', 'metres']),
  unit('km', 'length', 1000, ['kilometer', 'kilometers', 'kilometre', 'kilometres', 'kms']),
  unit('in', 'length', 0.0254, ['inch', 'inches']),
  unit('ft', 'length', 0.3048, ['foot', 'feet']),
  unit('yd', 'length', 0.9144, ['yard', 'yards']),
  unit('mi', 'length', 1609.344, ['mile', 'miles']),
  unit('nmi', 'length', 1852, ['nautical mile', 'nautical miles']),

  unit('mg', 'mass', 1e-6, ['milligram', 'milligrams']),
  unit('g', 'mass', 0.001, ['gram', 'grams']),
  unit('kg', 'mass', 1, ['kilogram', 'kilograms', 'kilo', 'kilos', 'kgs']),
  unit('t', 'mass', 1000, ['tonne', 'tonnes', 'metric ton', 'metric tons']),
  unit('oz', 'mass', 0.028349523125, ['ounce', 'ounces']),
  unit('lb', 'mass', 0.45359237, ['lbs', 'pound', 'pounds']),
  unit('st', 'mass', 6.35029318, ['stone', 'stones']),

  unit('C', 'temperature', 1, ['celsius', 'centigrade', 'degc'], 273.15),
  unit('F', 'temperature', 5 / 9, ['fahrenheit', 'degf'], 273.15 - (32 * 5) / 9),
  unit('K', 'temperature', 1, ['kelvin', 'kelvins']),

  unit('ml', 'volume', 0.001, ['milliliter', 'milliliters', 'millilitre', 'millilitres']),
  unit('cl', 'volume', 0.01, ['centiliter', 'centiliters', 'centilitre', 'centilitres']),
  unit('l', 'volume', 1, ['liter', 'liters', 'litre', 'litres']),
  unit('m3', 'volume', 1000, ['cubic meter', 'cubic meters', 'cubic metre', 'cubic metres', 'm^3']),
  unit('tsp', 'volume', 0.00492892159375, ['teaspoon', 'teaspoons']),
  unit('tbsp', 'volume', 0.01478676478125, ['tablespoon', 'tablespoons']),
  unit('floz', 'volume', 0.0295735295625, ['fl oz', 'fluid ounce', 'fluid ounces']),
  unit('cup', 'volume', 0.2365882365, ['cups']),
  unit('pt', 'volume', 0.473176473, ['pint', 'pints']),
  unit('qt', 'volume', 0.946352946, ['quart', 'quarts']),
  unit('gal', 'volume', 3.785411784, ['gallon', 'gallons', 'us gallon', 'us gallons']),

  unit('m/s', 'speed', 1, ['mps', 'meters per second', 'metres per second']),
  unit('km/h', 'speed', 1 / 3.6, ['kph', 'kmh', 'kmph', 'kilometers per hour', 'kilometres per hour']),
  unit('mph', 'speed', 0.44704, ['miles per hour', 'mi/h']),
  unit('kn', 'speed', 1852 / 3600, ['knot', 'knots', 'kt']),
  unit('ft/s', 'speed', 0.3048, ['fps', 'feet per second']),

  unit('bit', 'data', 1 / 8, ['bits']),
  unit('B', 'data', 1, ['byte', 'bytes']),
  unit('KB', 'data', 1e3, ['kilobyte', 'kilobytes']),
  unit('MB', 'data', 1e6, ['megabyte', 'megabytes']),
  unit('GB', 'data', 1e9, ['gigabyte', 'gigabytes']),
  unit('TB', 'data', 1e12, ['terabyte', 'terabytes']),
  unit('PB', 'data', 1e15, ['petabyte', 'petabytes']),
  unit('KiB', 'data', 2 ** 10, ['kibibyte', 'kibibytes']),
  unit('MiB', 'data', 2 ** 20, ['mebibyte', 'mebibytes']),
  unit('GiB', 'data', 2 ** 30, ['gibibyte', 'gibibytes']),
  unit('TiB', 'data', 2 ** 40, ['tebibyte', 'tebibytes']),
  unit('kbit', 'data', 125, ['kilobit', 'kilobits']),
  unit('Mbit', 'data', 125e3, ['megabit', 'megabits']),
  unit('Gbit', 'data', 125e6, ['gigabit', 'gigabits']),

  unit('ms', 'time', 0.001, ['millisecond', 'milliseconds']),
  unit('s', 'time', 1, ['sec', 'secs', 'second', 'seconds']),
  unit('min', 'time', 60, ['mins', 'minute', 'minutes']),
  unit('h', 'time', 3600, ['hr', 'hrs', 'hour', 'hours']),
  unit('day', 'time', 86_400, ['days', 'd']),
  unit('week', 'time', 604_800, ['weeks', 'wk']),
];

/** Lower-case spelling -> unit; symbols match case-insensitively (mb = MB: people rarely mean millibytes). */
const BY_NAME = new Map<string, UnitDefinition>(
  UNITS.flatMap((definition) => [definition.symbol, ...definition.aliases].map((name) => [name.toLowerCase(), definition] as const)),
);

/** Every spelling the converter understands, lower case: the router spots conversions with them. */
export const UNIT_SPELLINGS: readonly string[] = [...BY_NAME.keys()];

function normalize(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/^deg(?:rees?)?\s+/, '')
    .replace(/°\s*/g, 'deg')
    .replace(/\s+/g, ' ')
    .replace(/^deg(?=[a-z]{2,})/, '');
}

function validUnitsList(): string {
  const categories = new Map<UnitCategory, string[]>();
  for (const definition of UNITS) categories.set(definition.category, [...(categories.get(definition.category) ?? []), definition.symbol]);
  return [...categories].map(([category, symbols]) => `${category}: ${symbols.join(', ')}`).join('; ');
}

function lookup(name: string): UnitDefinition {
  const definition = BY_NAME.get(normalize(name));
  if (!definition) throw new Error(`unknown unit "${name}". Valid units — ${validUnitsList()}`);
  return definition;
}

export interface Conversion {
  value: number;
  from: string;
  to: string;
  result: number;
  category: UnitCategory;
}

export function convertUnits(value: number, fromName: string, toName: string): Conversion {
  const from = lookup(fromName);
  const to = lookup(toName);
  if (from.category !== to.category)
    throw new Error(`cannot convert ${from.category} (${from.symbol}) to ${to.category} (${to.symbol})`);
  const base = value * from.factor + (from.offset ?? 0);
  if (from.category === 'temperature' && base < 0) throw new Error(`${value} ${from.symbol} is below absolute zero`);
  const result = (base - (to.offset ?? 0)) / to.factor;
  // 1e308 km is a finite number of kilometres but not of millimetres: say so rather than answer null.
  if (!Number.isFinite(base) || !Number.isFinite(result)) throw new UnitOverflowError(value, from.symbol, to.symbol);
  return { value, from: from.symbol, to: to.symbol, result, category: from.category };
}

/** The converted value is beyond what a double can hold. */
export class UnitOverflowError extends RangeError {
  constructor(value: number, from: string, to: string) {
    super(`${value} ${from} in ${to} is too large to represent (beyond ±${Number.MAX_VALUE.toPrecision(4)})`);
    this.name = 'UnitOverflowError';
  }
}
