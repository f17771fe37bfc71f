import { afterEach, describe, expect, it } from 'vitest';
import { ok, startTestArena, type TestArena } from '../helpers/arena.js';

describe('the data notice (arena.dataNotice)', () => {
  let arena: TestArena | undefined;
  afterEach(async () => {
    await arena?.close();
    arena = undefined;
  });

  it('reaches every visitor by default, and an operator’s own text replaces it', async () => {
    arena = await startTestArena();
    const { info } = await ok(await arena.client(), 'session:state', {});
    expect(info.dataNotice).toMatch(/stored and may be published/);
    await arena.close();
    arena = await startTestArena({ config: { arena: { dataNotice: 'Research preview: prompts are kept for 30 days.' } } });
    expect((await ok(await arena.client(), 'session:state', {})).info.dataNotice).toBe('Research preview: prompts are kept for 30 days.');
  });

  it('is off with an empty text: the info carries no notice at all', async () => {
    arena = await startTestArena({ config: { arena: { dataNotice: '' } } });
    const { info } = await ok(await arena.client(), 'session:state', {});
    expect('dataNotice' in info).toBe(false);
  });
});
