import { DEFAULT_HYGIENE, VoteHygiene, type HygieneRules } from '../rating/hygiene.js';
import type { Store } from '../store/types.js';
import { toFastChatLine, toPreferencePair } from './export.js';

/**
 * Export lines, produced lazily. Battles: one line per stored vote, imported votes included, with
 * the votes vote hygiene keeps off the boards marked `arena_excluded`, so re-rating the export
 * reproduces the board. Preferences need both answers: recorded battles only.
 */
export async function* exportLines(store: Store, kind: 'battles' | 'preferences', rules: HygieneRules = DEFAULT_HYGIENE): AsyncIterable<string> {
  if (kind === 'battles') {
    const hygiene = new VoteHygiene(rules, await flaggedJudges(store, rules));
    for await (const { vote, battle } of store.listVotesWithBattles()) yield JSON.stringify(toFastChatLine(hygiene.screen(vote), battle));
    return;
  }
  for await (const battle of store.listVotedBattles()) {
    const pair = toPreferencePair(battle);
    if (pair) yield JSON.stringify(pair);
  }
}

/** First pass: the judges the rules flag over all votes (votes are not kept). */
async function flaggedJudges(store: Store, rules: HygieneRules) {
  const hygiene = new VoteHygiene(rules);
  for (let cursor: string | undefined; ; ) {
    const page = await store.votesAfter(cursor, 5_000);
    for (const vote of page.votes) hygiene.screen(vote);
    cursor = page.cursor;
    if (page.votes.length < 5_000) return hygiene.flags();
  }
}
