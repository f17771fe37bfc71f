import type { AckResults, ArenaInfo, BattleSummary, ParsedPayload } from '../../src/lib/shared/protocol.js';
import type { BattleDeps, Caller } from './deps.js';
import { fail } from './errors.js';
import { battleSummary } from './history.js';
import type { LiveBattles } from './live.js';
import { lastTurnSettled } from './record.js';
import { battleView, checkOwner, loadSession, NO_SUCH_BATTLE, sameSecret } from './views.js';

type ReadDeps = Pick<BattleDeps, 'store' | 'models' | 'limits' | 'tools' | 'publicExport'>;

/**
 * What any instance answers by reading: the arena's info, a session's battle and history, a
 * resume after a gap, a spectator's view, and the crowd's vote (stored by whichever instance).
 */
export class BattleReads {
  constructor(
    private readonly deps: ReadDeps,
    private readonly live: LiveBattles,
  ) {}

  info(): ArenaInfo {
    const models = this.deps.models.available();
    return {
      demo: models.some((m) => this.deps.models.describe(m).demo),
      tools: this.deps.tools?.status() ?? { enabled: false, reason: 'The tools path is not configured.' },
      availableModels: models.length,
      tournamentModels: models.length,
      publicExport: this.deps.publicExport ?? false,
      ...(this.deps.limits.dataNotice ? { dataNotice: this.deps.limits.dataNotice } : {}),
    };
  }

  async state(caller: Caller): Promise<AckResults['session:state']> {
    const session = await loadSession(this.deps.store, caller.sessionHash);
    // The session's own battle: subscribe first, so nothing published after the read is missed.
    if (session.currentBattleId) await caller.join(session.currentBattleId);
    const record = session.currentBattleId ? await this.live.currentRecord(session.currentBattleId) : null;
    if (!record || record.record.sessionHash !== caller.sessionHash) return { info: this.info() };
    return { info: this.info(), battle: battleView(this.deps.models, record.record, record.seq, true, session) };
  }

  /** The available arena models by name, for the named side-by-side mode (never for blind duels). */
  modelList(): AckResults['models:list'] {
    return { models: this.deps.models.available().map((id) => ({ id, label: this.deps.models.describe(id).label })) };
  }

  async sessionHistory(caller: Caller): Promise<AckResults['session:history']> {
    const session = await loadSession(this.deps.store, caller.sessionHash);
    const battles: BattleSummary[] = [];
    for (const id of [...(session.history ?? [])].reverse()) {
      const current = await this.live.currentRecord(id);
      if (current && current.record.sessionHash === caller.sessionHash) {
        battles.push(battleSummary(current.record, (m) => this.deps.models.describe(m).label));
      }
    }
    return { battles };
  }

  async resume(caller: Caller, { battleId, afterSeq }: ParsedPayload<'battle:resume'>): Promise<AckResults['battle:resume']> {
    const current = await this.live.currentRecord(battleId);
    if (!current) fail('not_found', NO_SUCH_BATTLE);
    checkOwner(caller, current!.record);
    await caller.join(battleId);
    // A client ahead of the log saw events a dead holder never stored: it needs the stored view.
    const events = afterSeq <= current!.seq ? await this.live.eventsAfter(battleId, afterSeq) : null;
    if (events) return { events };
    const now = (await this.live.currentRecord(battleId)) ?? current!;
    const session = await loadSession(this.deps.store, caller.sessionHash);
    return { events: [], battle: battleView(this.deps.models, now.record, now.seq, true, session) };
  }

  /** A spectator with the share link's capability: a read-only view, then live events. */
  async watch(caller: Caller, { battleId, token }: ParsedPayload<'watch:join'>) {
    const checked = await this.live.currentRecord(battleId);
    if (!checked || !sameSecret(checked.record.watchToken, token)) fail('not_found', 'This watch link is not valid.');
    // Subscribed first, read second: every event is either in the view or arrives as a frame
    // (a frame goes out only after its log entry is stored). The client drops duplicates by seq.
    await caller.join(battleId);
    const current = (await this.live.currentRecord(battleId)) ?? checked!;
    return { battle: battleView(this.deps.models, current.record, current.seq, false), crowd: await this.deps.store.crowdTally(battleId) };
  }

  async crowdVote(caller: Caller, { battleId, token, choice }: ParsedPayload<'watch:vote'>) {
    const current = await this.live.currentRecord(battleId);
    if (!current || !sameSecret(current.record.watchToken, token)) fail('not_found', 'This watch link is not valid.');
    const record = current!.record;
    if (record.sessionHash === caller.sessionHash) fail('forbidden', 'You own this battle: cast your vote in the arena.');
    if (!lastTurnSettled(record)) fail('conflict', 'Wait for both answers to finish before voting.');
    // After the owner's vote the names are public: a crowd vote then would not be blind.
    if (record.vote) fail('conflict', 'Crowd voting closed when the names were revealed.');
    if (record.mode === 'named') fail('conflict', 'A side-by-side comparison by name is not blind: it takes no crowd vote.');
    if ((await this.deps.store.recordCrowdVote(battleId, caller.sessionHash, choice)) === 'already_voted')
      fail('conflict', 'You already cast a crowd vote on this battle.');
    return { crowd: await this.deps.store.crowdTally(battleId) };
  }
}
