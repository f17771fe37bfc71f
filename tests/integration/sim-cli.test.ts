import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI_ENTRY = new URL('../../server/sim/cli.ts', import.meta.url).href;

describe('simulator CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves the models from --models, prints its URL, and exits cleanly on SIGTERM', async () => {
    const modelsPath = join(dir, 'models.json');
    await writeFile(modelsPath, JSON.stringify([{ name: 'org/Model-A', tokensPerSecond: 500 }, { name: 'org/Model-B' }]));
    const script = `import(${JSON.stringify(CLI_ENTRY)}).then((cli) => cli.runSimulatorCli(process.argv.slice(1)))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, '--', '--flavor', 'vllm', '--port', '0', '--models', modelsPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const banner = (await lines.next()).value as string;
    const url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
    expect((await lines.next()).value).toBe('Models: org/Model-A, org/Model-B');

    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; owned_by: string }> };
    expect(models.data.map((model) => [model.id, model.owned_by])).toEqual([['org/Model-A', 'vllm'], ['org/Model-B', 'vllm']]);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await lines.next()).value).toBe('SIGTERM: shutting down');
    expect(await exited).toEqual([0, null]);
  });
});
