import type { BattleSummary } from '../../src/lib/shared/protocol.js';
import type { BattleRecord } from '../store/types.js';

/** How many of a session's battles "My battles" keeps (the session record holds their ids). */
export const HISTORY_LENGTH = 50;

/**
 * One line of "My battles". A blind battle's names appear only once it is voted on, exactly as
 * the reveal does; the tools path and the named mode name their models from the start.
 */
export function battleSummary(record: BattleRecord, label: (model: string) => string): BattleSummary {
  const names =
    record.mode === 'tools'
      ? { left: label(record.models.left) }
      : record.vote || record.mode === 'named'
        ? { left: label(record.models.left), right: label(record.models.right) }
        : undefined;
  return {
    id: record.id,
    createdAt: record.createdAt,
    mode: record.mode,
    prompt: record.turns[0]?.prompt ?? '',
    ...(record.vote ? { vote: record.vote.choice } : {}),
    ...(names ? { names } : {}),
    sharePath: `/watch/${record.id}?t=${record.watchToken}`,
  };
}
