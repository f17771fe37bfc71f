import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_TOOLS, defineTool, loadToolModules, runToolCall, ToolRegistry } from '../../server/tools/index.js';

const call = (name: string, args: Record<string, unknown>, extra: { argumentsError?: string } = {}) => ({ id: 'call_1', name, arguments: args, ...extra });

describe('ToolRegistry', () => {
  it('turns each schema into the JSON schema models get, input side, without $schema', () => {
    const specs = new ToolRegistry(BUILTIN_TOOLS).toToolSpecs();
    expect(specs.map((spec) => spec.name)).toEqual(['calculator', 'datetime', 'convert_units']);
    expect(specs[0]).toEqual({
      name: 'calculator',
      description: expect.stringContaining('arithmetic expression'),
      parameters: {
        type: 'object',
        properties: { expression: { type: 'string', minLength: 1, maxLength: 1000, description: expect.any(String) } },
        required: ['expression'],
      },
    });
    // Defaulted fields are optional for the model to send.
    expect(specs[1]!.parameters).toMatchObject({ properties: { action: { enum: ['now', 'difference', 'add'], default: 'now' } } });
    expect(specs[1]!.parameters.required).toBeUndefined();
    expect(specs[2]!.parameters.required).toEqual(['value', 'from', 'to']);
  });

  it('refuses duplicate and invalid names', () => {
    expect(() => new ToolRegistry([...BUILTIN_TOOLS, BUILTIN_TOOLS[0]!])).toThrow('duplicate tool name "calculator"');
    const spaced = defineTool({ name: 'has space', description: '', schema: z.object({}), timeoutMs: 10, handler: async () => 1 });
    expect(() => new ToolRegistry([spaced])).toThrow('tool name "has space" must be 1-64 letters, digits, _ or -');
  });
});

describe('runToolCall', () => {
  const slow = defineTool({
    name: 'slow',
    description: 'never finishes on time',
    schema: z.object({}),
    timeoutMs: 50,
    // Ignores its signal on purpose: the deadline must not depend on the handler's manners.
    handler: () => new Promise((resolve) => setTimeout(resolve, 5_000)),
  });
  const polite = defineTool({
    name: 'polite',
    description: 'stops when told',
    schema: z.object({}),
    timeoutMs: 5_000,
    handler: (_args, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
  });
  const broken = defineTool({ name: 'broken', description: '', schema: z.object({}), timeoutMs: 100, handler: async () => { throw new Error('disk on fire'); } });
  const bigint = defineTool({ name: 'bigint', description: '', schema: z.object({}), timeoutMs: 100, handler: async () => ({ n: 1n }) });
  const registry = new ToolRegistry([...BUILTIN_TOOLS, slow, polite, broken, bigint]);

  it('runs a valid call', async () => {
    expect(await runToolCall(registry, call('calculator', { expression: '6 * 7' }))).toMatchObject({ ok: true, result: { expression: '6 * 7', result: 42 } });
  });

  it('turns every failure into an error outcome', async () => {
    const outcomes = await Promise.all([
      runToolCall(registry, call('nope', {})),
      runToolCall(registry, call('calculator', {}, { argumentsError: 'arguments are not valid JSON: Unexpected end' })),
      runToolCall(registry, call('calculator', { expression: 42 })),
      runToolCall(registry, call('convert_units', { value: 'ten', from: 'm' })),
      runToolCall(registry, call('calculator', { expression: '1 / 0' })),
      runToolCall(registry, call('broken', {})),
      runToolCall(registry, call('bigint', {})),
    ]);
    expect(outcomes.map((outcome) => (outcome.ok ? 'ok' : outcome.error))).toEqual([
      'unknown tool "nope" (available: calculator, datetime, convert_units, slow, polite, broken, bigint)',
      'invalid arguments: arguments are not valid JSON: Unexpected end',
      'invalid arguments: expression: Invalid input: expected string, received number',
      'invalid arguments: value: Invalid input: expected number, received string; to: Invalid input: expected string, received undefined',
      'division by zero',
      'disk on fire',
      'the tool returned a value that is not JSON: Do not know how to serialize a BigInt',
    ]);
  });

  it('abandons a handler at its deadline even when it ignores the signal', async () => {
    const started = performance.now();
    const outcome = await runToolCall(registry, call('slow', {}));
    expect(outcome).toMatchObject({ ok: false, error: 'tool "slow" timed out after 50 ms' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome.ms).toBeGreaterThanOrEqual(45);
  });

  it('cancels a running tool when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await runToolCall(registry, call('polite', {}), controller.signal)).toMatchObject({ ok: false, error: 'tool "polite" was cancelled' });
    expect(await runToolCall(registry, call('calculator', { expression: '1' }), controller.signal)).toMatchObject({ ok: false, error: 'tool "calculator" was cancelled' });
  });
});

describe('loadToolModules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arena-tools-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Operator modules live outside the project: they reach zod by absolute URL here.
  const zodUrl = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
  const moduleFile = (name: string, source: string): string => {
    const path = join(dir, name);
    writeFileSync(path, source);
    return path;
  };

  it('imports a tool and an array of tools that then run', async () => {
    const single = moduleFile(
      'echo.mjs',
      `import { z } from '${zodUrl}';
       export default { name: 'echo', description: 'echoes', schema: z.object({ text: z.string() }), timeoutMs: 100, handler: async ({ text }) => ({ text }) };`,
    );
    const several = moduleFile(
      'pair.mjs',
      `import { z } from '${zodUrl}';
       const tool = (name) => ({ name, description: name, schema: z.object({}), timeoutMs: 100, handler: async () => name });
       export default [tool('first'), tool('second')];`,
    );
    const tools = await loadToolModules([single, several]);
    expect(tools.map((tool) => tool.name)).toEqual(['echo', 'first', 'second']);
    const registry = new ToolRegistry(tools);
    expect(await runToolCall(registry, call('echo', { text: 'hi' }))).toMatchObject({ ok: true, result: { text: 'hi' } });
    expect(registry.toToolSpecs()[0]!.parameters).toMatchObject({ properties: { text: { type: 'string' } } });
  });

  it('names the module and the problem', async () => {
    const noDefault = moduleFile('named.mjs', 'export const tool = 1;');
    const noSchema = moduleFile('plain.mjs', `export default { name: 'plain', description: 'd', schema: { type: 'object' }, timeoutMs: 1, handler() {} };`);
    const badSecond = moduleFile('list.mjs', `export default [{ name: 'x', description: 'd', schema: null, timeoutMs: 1, handler() {} }].slice(1).concat([42]);`);
    const noTimeout = moduleFile('slowpoke.mjs', `import { z } from '${zodUrl}'; export default { name: 'slowpoke', description: '', schema: z.object({}), handler() {} };`);
    await expect(loadToolModules([noDefault])).rejects.toThrow(`tool module ${noDefault}: has no default export (expected a tool or an array of tools)`);
    await expect(loadToolModules([noSchema])).rejects.toThrow(`tool module ${noSchema}: default export is not a tool: "schema" of "plain" must be a zod object`);
    await expect(loadToolModules([badSecond])).rejects.toThrow(`tool module ${badSecond}: default export [0] is not a tool: expected an object`);
    await expect(loadToolModules([noTimeout])).rejects.toThrow(`"timeoutMs" of "slowpoke" must be a positive number`);
    await expect(loadToolModules([join(dir, 'missing.mjs')])).rejects.toThrow(`tool module ${join(dir, 'missing.mjs')}: cannot load it:`);
  });
});
