import type { Ack, BattleView, SeqEvent } from '../../src/lib/shared/protocol.js';
import type { OwnerAction } from '../realtime/relay.js';

/**
 * The one way battles reach clients and other instances. The realtime relay implements it
 * (`server/realtime/relay.ts`); battles never see a socket, a room or the adapter.
 */
export interface BattlePort {
  /** A frame to everyone in the battle's room, on every instance. */
  sendFrame(battleId: string, events: SeqEvent[]): void;
  /** A frame to the battle's room on the other instances only (events stored late, after an outage). */
  sendRemote(battleId: string, events: SeqEvent[]): void;
  /**
   * This instance lost a battle to another (fenced): its own sockets may hold events that were never
   * stored, so they get the stored view (the owner's and a spectator's) to replace theirs.
   */
  resetLocal(battleId: string, views: { sessionHash: string; owner: BattleView; spectator: BattleView }): void;
  /** Asks the instance that holds the battle to run an owner action: its ack, or why there is none. */
  forward(action: OwnerAction): Promise<Ack | 'no_owner' | 'unreachable'>;
  /** A vote was stored here: the other instances refresh their boards. */
  announceVote(): void;
}
