import { z } from 'zod';
import { roundForDisplay } from './calculator.js';
import { defineTool } from './tool.js';
import { convertUnits } from './units.js';

export const convertUnitsTool = defineTool({
  name: 'convert_units',
  description:
    'Converts a value between units of length, mass, temperature, volume (US), speed, data size or time, ' +
    'e.g. {"value": 5, "from": "km", "to": "mi"}. Units are symbols (km, lb, C, gal, mph, GiB, h) or names (miles, fahrenheit).',
  schema: z.object({
    value: z.number().finite(),
    from: z.string().min(1).describe('unit of the value'),
    to: z.string().min(1).describe('unit wanted'),
  }),
  timeoutMs: 1_000,
  handler: async ({ value, from, to }) => {
    const conversion = convertUnits(value, from, to);
    return { ...conversion, result: roundForDisplay(conversion.result, 10) };
  },
});
