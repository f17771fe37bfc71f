import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Leaderboard } from '../../src/lib/shared/protocol.js';
import { silentLogger } from '../../server/infra/log.js';
import { LiveLeaderboard } from '../../server/rating/live.js';
import { openSqliteStore } from '../../server/store/sqlite.js';
import type { Store } from '../../server/store/types.js';

// The live board's debounce on fake timers: a burst of votes is one refresh, no refresh comes
// before the debounce, and a vote after a refresh schedules the next one. (The integration
// test tests/integration/leaderboard.test.ts pushes real boards through a real server.)
const DEBOUNCE_MS = 1_000;
const vote = (i: number) => ({ battleId: `b${i}`, modelLeft: 'a', modelRight: 'b', choice: 'left' as const, excluded: false, judge: 'j', tstamp: i });

describe('live leaderboard debounce', () => {
  let dir: string;
  let store: Store;
  let live: LiveLeaderboard;
  let pushes: Leaderboard[];

  beforeEach(() => {
    // Only the timers: SQLite and promises run for real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    dir = mkdtempSync(join(tmpdir(), 'arena-live-'));
    store = openSqliteStore({ dir });
    pushes = [];
    live = new LiveLeaderboard({ store, logger: silentLogger, debounceMs: DEBOUNCE_MS, bootstrapRounds: 10, publish: (b) => pushes.push(b) });
  });
  afterEach(async () => {
    live.close();
    vi.useRealTimers();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs due timers, then lets the refresh they started (real SQLite reads) finish. */
  async function advance(ms: number) {
    await vi.advanceTimersByTimeAsync(ms);
    await settle();
  }

  /** A few real event-loop turns (setImmediate is not faked; vi.waitFor would advance the clock). */
  async function settle() {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  it('turns a burst of votes into one refresh, not before the debounce', async () => {
    for (let i = 0; i < 10; i++) {
      await store.importVotes([vote(i)]);
      live.invalidate();
      await advance(50);
    }
    // 500 ms after the first vote: nothing yet.
    expect(pushes).toHaveLength(0);
    await advance(DEBOUNCE_MS - 500 - 1);
    expect(pushes).toHaveLength(0);
    await advance(1);
    // One refresh publishes the overall board once with ties and once without.
    expect(pushes.map((b) => b.excludeTies).sort()).toEqual([false, true]);
    expect(pushes.every((b) => b.totalVotes === 10)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a vote after a refresh schedules the next one, which sees it', async () => {
    await store.importVotes([vote(0)]);
    live.invalidate();
    await advance(DEBOUNCE_MS);
    expect(pushes).toHaveLength(2);
    await store.importVotes([vote(1)]);
    live.invalidate();
    expect(vi.getTimerCount()).toBe(1);
    await advance(DEBOUNCE_MS - 1);
    expect(pushes).toHaveLength(2);
    await advance(1);
    expect(pushes).toHaveLength(4);
    expect(pushes.slice(2).every((b) => b.totalVotes === 2)).toBe(true);
  });

  it('close() cancels a pending refresh', async () => {
    await store.importVotes([vote(0)]);
    live.invalidate();
    live.close();
    await advance(DEBOUNCE_MS * 2);
    expect(pushes).toHaveLength(0);
  });
});
