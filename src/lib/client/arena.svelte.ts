/**
 * The duel page's state and actions: one battle view kept in sync with the server's ordered
 * event log, plus the info and error toasts around it. Components only read it and call actions.
 */
import type { Ack, ArenaInfo, BattleView, EventsFrame, RouteMode, SeqEvent, Side, VoteChoice } from '$shared/protocol';
import { failedSides } from '$shared/vote-rules';
import { answeringSides, applyEvents, canVote, isRunning } from './battle-state';
import { call, follow, NO_SESSION_MESSAGE } from './socket';

/** `named`: two models picked by name, side by side, not rated. */
export type StartMode = 'arena' | 'tournament' | 'named';

export interface Toast {
  id: number;
  message: string;
}

const TOAST_MS = 6_000;

export class ArenaClient {
  info = $state<ArenaInfo>();
  /** Replaced, never mutated (see applyEvents), so it needs no deep reactivity. */
  battle = $state.raw<BattleView>();
  mode = $state<StartMode>('arena');
  /** The two model ids of the named side-by-side mode, left then right ('' = not picked yet). */
  named = $state<[string, string]>(['', '']);
  /** Where new arena prompts go: the router decides, or the user forces a duel or the tools path. */
  route = $state<RouteMode>('auto');
  /** A start/send/vote/next request is waiting for its ack. */
  busy = $state(false);
  toasts = $state<Toast[]>([]);
  connected = $state(false);
  /** Why the page cannot connect at all (no session cookie): shown permanently, not as a toast. */
  blocked = $state<string>();

  running = $derived(isRunning(this.battle));
  votable = $derived(canVote(this.battle) && !this.busy);
  /** Sides whose answer failed or was cut off: they cannot win or tie (see shared/vote-rules). */
  failed = $derived(this.battle ? failedSides(this.battle.turns, answeringSides(this.battle)) : []);
  /** Follow-ups go into the current battle until it is voted on (tools battles: until a new round). */
  inBattle = $derived(!!this.battle && !this.battle.vote);
  /** Why the tools path is off; undefined while it is on (or not known yet). */
  toolsOff = $derived(this.info && !this.info.tools.enabled ? (this.info.tools.reason ?? 'not available.') : undefined);

  #resuming = false;
  /** Frames that arrive while a new battle's id is not known yet (its start/next ack is pending). */
  #earlyFrames: EventsFrame[] | undefined;
  #nextToastId = 0;

  /** Connects and restores the session's battle. Returns the cleanup for onMount. */
  connect(): () => void {
    return follow(
      {
        'battle:events': (frame) => this.#onFrame(frame),
        'battle:reset': ({ battleId, battle }) => {
          if (battleId === this.battle?.id) this.battle = battle;
        },
        'info:update': (info) => (this.info = info),
      },
      {
        // First connection: restore the session. Later ones: the server has a fresh socket, so catch
        // up on what streamed meanwhile (which also re-joins the battle's room).
        connected: () => {
          this.connected = true;
          void (this.info ? this.#resume() : this.#restore());
        },
        disconnected: () => (this.connected = false),
        refused: (message) => this.#refused(message),
      },
    );
  }

  /** Sends a prompt: a follow-up in the open battle, otherwise a new battle. True when accepted. */
  async submit(prompt: string): Promise<boolean> {
    if (this.battle && !this.battle.vote) {
      return this.#act(() => call('battle:send', { battleId: this.battle!.id, prompt }));
    }
    if (this.mode === 'named') return this.#replaceBattle(() => call('battle:start', { prompt, models: [...this.named] }));
    return this.#replaceBattle(() => call('battle:start', { prompt, mode: this.mode as 'arena' | 'tournament', route: this.route }));
  }

  /** Overrides the router: the battle's first prompt again, as a new battle on the given path. */
  async reroute(route: 'arena' | 'tools'): Promise<void> {
    const prompt = this.battle?.turns[0]?.prompt;
    if (!prompt) return;
    if (this.running) this.stop();
    await this.#replaceBattle(() => call('battle:start', { prompt, mode: 'arena', route }));
  }

  async next(): Promise<void> {
    const battleId = this.battle?.id;
    if (battleId) await this.#replaceBattle(() => call('battle:next', { battleId }));
  }

  async vote(choice: VoteChoice): Promise<void> {
    const battle = this.battle;
    if (!battle || !canVote(battle)) return;
    await this.#act(async () => {
      const res = await call('battle:vote', { battleId: battle.id, choice });
      // The vote event will say the same; showing the reveal from the ack avoids waiting for it.
      if (res.ok && this.battle?.id === battle.id) {
        this.battle = { ...this.battle, vote: choice, reveal: res.reveal, tournament: res.tournament ?? this.battle.tournament };
      }
      return res;
    });
  }

  stop(side?: Side): void {
    const battleId = this.battle?.id;
    if (battleId) void this.#report(call('battle:stop', side ? { battleId, side } : { battleId }));
  }

  regenerate(): void {
    const battleId = this.battle?.id;
    if (battleId) void this.#report(call('battle:regenerate', { battleId }));
  }

  /** Clears the page; the next prompt starts a fresh battle. A running stream is stopped first. */
  newRound(): void {
    if (this.running) this.stop();
    this.battle = undefined;
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  async #restore(): Promise<void> {
    const res = await call('session:state', {});
    if (!res.ok) return this.#toast(res.error.message);
    this.info = res.info;
    if (res.battle && !this.battle) {
      this.battle = res.battle;
      if (res.battle.tournament) this.mode = 'tournament';
    }
  }

  #onFrame(frame: EventsFrame): void {
    if (this.#earlyFrames) this.#earlyFrames.push(frame);
    if (frame.battleId === this.battle?.id) this.#apply(frame.events);
  }

  #apply(events: SeqEvent[]): void {
    if (!this.battle) return;
    const { view, missingSeq } = applyEvents(this.battle, events);
    this.battle = view;
    if (missingSeq !== undefined) void this.#resume();
  }

  /** Fetches every event after the view's seq. One request at a time; a gap found later retries. */
  async #resume(): Promise<void> {
    const battle = this.battle;
    if (!battle || this.#resuming) return;
    this.#resuming = true;
    const res = await call('battle:resume', { battleId: battle.id, afterSeq: battle.seq });
    this.#resuming = false;
    if (!res.ok) return this.#toast(res.error.message);
    if (this.battle?.id !== battle.id) return;
    // When its log no longer reaches back to afterSeq, the server sends the whole view instead.
    const snapshot = (res as { battle?: BattleView }).battle;
    this.battle = snapshot ?? applyEvents(this.battle, res.events).view;
  }

  /** Starts a battle (start or next), keeping frames that race ahead of the ack that names it. */
  #replaceBattle(request: () => Promise<Ack<{ battle: BattleView }>>): Promise<boolean> {
    return this.#act(async () => {
      this.#earlyFrames = [];
      try {
        const res = await request();
        if (res.ok) {
          this.battle = res.battle;
          for (const frame of this.#earlyFrames) if (frame.battleId === res.battle.id) this.#apply(frame.events);
        }
        return res;
      } finally {
        this.#earlyFrames = undefined;
      }
    });
  }

  /** Runs one user action at a time, turning a failed ack into a toast. */
  async #act(request: () => Promise<Ack>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      return await this.#report(request());
    } finally {
      this.busy = false;
    }
  }

  async #report(pending: Promise<Ack>): Promise<boolean> {
    const res = await pending;
    if (!res.ok) this.#toast(res.error.message);
    return res.ok;
  }

  #refused(message: string): void {
    if (message === NO_SESSION_MESSAGE) this.blocked = message;
    else this.#toast(message);
  }

  #toast(message: string): void {
    const id = this.#nextToastId++;
    this.toasts = [...this.toasts, { id, message }];
    setTimeout(() => this.dismissToast(id), TOAST_MS);
  }
}
