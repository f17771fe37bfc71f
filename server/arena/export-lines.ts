import type { Store } from '../store/types.js';
import { toFastChatLine, toPreferencePair } from './export.js';

/**
 * Export lines, produced lazily. Battles: one line per stored vote, imported votes included, so
 * re-rating the export reproduces the board. Preferences need both answers: recorded battles only.
 */
export async function* exportLines(store: Store, kind: 'battles' | 'preferences'): AsyncIterable<string> {
  if (kind === 'battles') {
    for await (const { vote, battle } of store.listVotesWithBattles()) yield JSON.stringify(toFastChatLine(vote, battle));
    return;
  }
  for await (const battle of store.listVotedBattles()) {
    const pair = toPreferencePair(battle);
    if (pair) yield JSON.stringify(pair);
  }
}
