import type { BattleRecord } from '../store/types.js';
import type { Route } from './types.js';

/**
 * Labelled prompts from real traffic: every prompt the router decided, with the user's override
 * when there was one. An override is the same session sending the same prompt again, soon after,
 * with an explicit choice (`/arena`, `/tools` or the toggle) the other way: the user's verdict
 * that the router was wrong. Rows are reviewed by a person before joining the corpus.
 */

export interface RoutedPromptRow {
  prompt: string;
  /** What the router chose. */
  routed: Route;
  layer: string;
  confidence: number;
  /** The route the user forced on the same prompt right after, when it differs; null when they let it stand. */
  override: Route | null;
  at: string;
}

/** An override further away than this is a new question, not a correction. */
export const OVERRIDE_WINDOW_MS = 10 * 60_000;

const sameText = (a: string, b: string): boolean => a.trim().replace(/\s+/g, ' ').toLowerCase() === b.trim().replace(/\s+/g, ' ').toLowerCase();

export async function routedPromptRows(battles: AsyncIterable<BattleRecord>): Promise<RoutedPromptRow[]> {
  const bySession = new Map<string, BattleRecord[]>();
  for await (const battle of battles) {
    if (!battle.route || !battle.turns[0]) continue;
    bySession.set(battle.sessionHash, [...(bySession.get(battle.sessionHash) ?? []), battle]);
  }
  const rows: RoutedPromptRow[] = [];
  for (const battles of bySession.values()) {
    battles.sort((a, b) => a.createdAt - b.createdAt);
    battles.forEach((battle, i) => {
      const route = battle.route!;
      if (route.layer === 'explicit') return;
      const prompt = battle.turns[0]!.prompt;
      const correction = battles
        .slice(i + 1)
        .find((later) => later.createdAt - battle.createdAt <= OVERRIDE_WINDOW_MS && sameText(later.turns[0]!.prompt, prompt));
      const forced = correction?.route?.layer === 'explicit' ? correction.route.route : undefined;
      rows.push({
        prompt,
        routed: route.route,
        layer: route.layer,
        confidence: route.confidence,
        override: forced && forced !== route.route ? forced : null,
        at: new Date(battle.createdAt).toISOString(),
      });
    });
  }
  return rows.sort((a, b) => a.at.localeCompare(b.at));
}
