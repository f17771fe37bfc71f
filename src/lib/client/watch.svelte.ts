/**
 * The spectator page's state: one battle watched through its share link (a capability token),
 * kept in sync with the live event log, plus the viewer count and the crowd's votes.
 * Spectators cannot call the owner-only `battle:resume`, so every catch-up is a fresh `watch:join`.
 */
import type { BattleView, CrowdTally, SeqEvent, VoteChoice } from '$shared/protocol';
import { applyEvents, isRunning } from './battle-state';
import { call, follow } from './socket';

const INVALID_LINK = 'This watch link is not valid or has expired.';

export class WatchClient {
  /** Replaced, never mutated (see applyEvents), so it needs no deep reactivity. */
  battle = $state.raw<BattleView>();
  viewers = $state(0);
  crowd = $state.raw<CrowdTally>();
  /** This spectator's own crowd vote, once accepted. */
  crowdChoice = $state<VoteChoice>();
  /** Why the battle cannot be shown or kept up to date (an invalid link, a failed join). */
  error = $state<string>();
  /** Why the last crowd vote was refused. */
  crowdError = $state<string>();
  connected = $state(false);
  #voting = $state(false);

  running = $derived(isRunning(this.battle));
  /** One crowd vote per spectator, once the latest turn has finished on both sides, until the reveal. */
  crowdVotable = $derived(
    !!this.battle && this.battle.turns.length > 0 && !this.running && !this.battle.vote && !this.crowdChoice && !this.#voting,
  );

  /** Latest join request; an older one's answer is stale once a reconnect has started another. */
  #joinAttempt = 0;
  /** Events that arrive while a join is pending: the room is joined before the view is read, so
   *  some may be newer than the view in the ack and must be applied on top of it. */
  #heldEvents: SeqEvent[] | undefined;

  /** `token`: the share link's `t`, empty when the link has none. */
  constructor(
    private readonly battleId: string,
    private readonly token: string,
  ) {}

  /** Connects and joins the battle. Returns the cleanup for onMount. */
  connect(): () => void {
    if (!this.token) {
      this.error = INVALID_LINK;
      return () => {};
    }
    // The one socket outlives page changes and may still be in other battles' rooms.
    return follow(
      {
        'battle:events': (frame) => {
          if (frame.battleId === this.battleId) this.#receive(frame.events);
        },
        'battle:reset': ({ battleId, battle }) => {
          if (battleId === this.battleId && !this.#heldEvents) this.battle = battle;
        },
        'battle:viewers': ({ battleId, count }) => {
          if (battleId === this.battleId) this.viewers = count;
        },
        'battle:crowd': ({ battleId, crowd }) => {
          if (battleId === this.battleId) this.#acceptCrowd(crowd);
        },
      },
      {
        // Every connection is a fresh server socket in no room: join again, which also catches up.
        connected: () => {
          this.connected = true;
          void this.#join();
        },
        disconnected: () => (this.connected = false),
        refused: (message) => (this.error = message),
      },
    );
  }

  async crowdVote(choice: VoteChoice): Promise<void> {
    if (!this.crowdVotable) return;
    this.#voting = true;
    const res = await call('watch:vote', { battleId: this.battleId, token: this.token, choice });
    this.#voting = false;
    if (!res.ok) {
      this.crowdError = res.error.message;
      return;
    }
    this.crowdError = undefined;
    this.crowdChoice = choice;
    this.#acceptCrowd(res.crowd);
  }

  /** Replaces the view with the server's current one, then applies what arrived meanwhile. */
  async #join(): Promise<void> {
    const attempt = ++this.#joinAttempt;
    this.#heldEvents = [];
    const res = await call('watch:join', { battleId: this.battleId, token: this.token });
    if (attempt !== this.#joinAttempt) return;
    const held = this.#heldEvents;
    this.#heldEvents = undefined;
    if (!res.ok) {
      // The server answers not_found for an unknown battle and a wrong token alike.
      const invalid = res.error.code === 'not_found' || res.error.code === 'bad_request';
      this.error = invalid ? INVALID_LINK : res.error.message;
      return;
    }
    this.error = undefined;
    this.battle = res.battle;
    this.viewers = res.viewers;
    this.#acceptCrowd(res.crowd);
    this.#apply(held);
  }

  #receive(events: SeqEvent[]): void {
    if (this.#heldEvents) this.#heldEvents.push(...events);
    else this.#apply(events);
  }

  #apply(events: SeqEvent[]): void {
    if (!this.battle) return;
    const { view, missingSeq } = applyEvents(this.battle, events);
    this.battle = view;
    if (missingSeq !== undefined) void this.#join();
  }

  /** Crowd votes are never withdrawn, so a tally with fewer votes is an older one arriving late. */
  #acceptCrowd(crowd: CrowdTally): void {
    if (!this.crowd || totalVotes(crowd) >= totalVotes(this.crowd)) this.crowd = crowd;
  }
}

export function totalVotes(crowd: CrowdTally): number {
  return crowd.left + crowd.right + crowd.tie + crowd.bothbad;
}
