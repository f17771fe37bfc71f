import type { AnswerStatus, BattleMode, CrowdTally, RouteInfo, Side, ToolCallView, VoteChoice } from '../../src/lib/shared/protocol.js';
import type { BattleCategories } from '../classify/categories.js';
import type { ConvMetadata } from '../classify/style.js';

export type { AnswerStatus, BattleMode, CrowdTally, Side, VoteChoice };

/**
 * Durable state of the arena. Two drivers implement `Store` (embedded SQLite, Redis) and one
 * contract test suite runs against both, so the rest of the server never knows which it has.
 */


export interface SideAnswer {
  text: string;
  reasoning: string;
  status: AnswerStatus;
  error?: string;
  /** Filled from the provider's finish part; revealed only after the vote. */
  ttftMs?: number;
  tokensPerSecond?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** `backendId/model` that produced (the end of) this answer. Never sent before the vote. */
  deployment?: string;
  /** True when the answer was continued on another deployment after a mid-stream failure. */
  resumed?: boolean;
  /** Tools path: the calls made while answering. */
  tools?: ToolCallView[];
}

export interface Turn {
  prompt: string;
  startedAt: number;
  answers: Record<Side, SideAnswer>;
  /** Some side is reasoning right now (blind battles show only this before the vote). */
  thinking?: boolean;
}


export interface BattleRecord {
  id: string;
  /** sha256 of the session token: the judge id. The raw token is never stored. */
  sessionHash: string;
  createdAt: number;
  mode: BattleMode;
  /** Logical model ids. Never sent to a client before `vote` is set. */
  models: Record<Side, string>;
  systemPrompt: string;
  turns: Turn[];
  /** Identity leak detected in that side's answer: the vote is stored but not rated. */
  leak: Record<Side, boolean>;
  vote?: { choice: VoteChoice; at: number };
  /** Read-only capability for the share link /watch/<id>?t=<watchToken>. */
  watchToken: string;
  /** For cycles and tournaments: the group this battle belongs to. */
  groupId?: string;
  /** How the router decided, when it was asked. */
  route?: RouteInfo;
  /** Sequence number of the last event applied to this record (resume point after a restart). */
  lastSeq?: number;
  /** Set from the first prompt when the battle starts, recomputed over every turn at the vote. */
  categories?: BattleCategories;
  /** Style features of the settled answers, set at the vote (FastChat's conv_metadata). */
  style?: ConvMetadata;
}

/** What ratings and exports read: one row per vote, the battle as it was when voted. */
export interface VoteRecord {
  battleId: string;
  modelLeft: string;
  modelRight: string;
  choice: VoteChoice;
  /** Leaked or flagged battles are kept but excluded from ratings. */
  excluded: boolean;
  judge: string;
  /** When the vote was cast, epoch milliseconds (exports convert to FastChat's seconds). */
  tstamp: number;
  /** Category boards this vote counts on besides "overall" (topics and `lang:<code>`). */
  categories?: string[];
  /** Style features for style control; votes without them are left out of that fit only. */
  style?: ConvMetadata;
  /** Hash of the first prompt: vote hygiene counts a judge's repeated prompt once. */
  promptHash?: string;
}

export interface SessionRecord {
  hash: string;
  createdAt: number;
  /** The battle shown when the page reloads. */
  currentBattleId?: string;
  /** Per-prompt sets of pairs already seen, for "Next >" cycling. */
  seenPairs: Record<string, string[]>;
  tournament?: TournamentState;
  /** The session's battles, oldest first, the last 50 ("My battles"). */
  history?: string[];
}

export interface TournamentState {
  id: string;
  prompt: string;
  /** Model ids still to enter, in order. */
  queue: string[];
  champion: string;
  /** Battles of this tournament in order. */
  battleIds: string[];
  /** Model id → wins in this tournament. */
  wins: Record<string, number>;
  /** Knocked-out models, in the order they lost. */
  eliminated: string[];
  done: boolean;
}

export type VoteResult = 'ok' | 'already_voted' | 'not_found';

/** One board as it stood on one UTC day (the last snapshot taken that day wins). */
export interface BoardSnapshot {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  category: string;
  excludeTies: boolean;
  takenAt: number;
  countedVotes: number;
  rows: { model: string; rating: number; ciLow: number; ciHigh: number; votes: number }[];
}


export interface VotePage {
  votes: VoteRecord[];
  /** Pass back to read on; unchanged when there was nothing new. */
  cursor: string | undefined;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  /** Reachability check for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;

  getSession(hash: string): Promise<SessionRecord | null>;
  putSession(session: SessionRecord): Promise<void>;

  getBattle(id: string): Promise<BattleRecord | null>;
  /**
   * Upsert the whole record (battles are small). `vote` belongs to recordVote: whatever the
   * argument says, the stored vote (or its absence) is kept.
   */
  putBattle(battle: BattleRecord): Promise<void>;

  /**
   * Atomically: if the battle exists and has no vote, store `battle` with its vote set and append
   * a VoteRecord derived from it. Resolves only after both are stored durably.
   */
  recordVote(battle: BattleRecord, choice: VoteChoice, at: number): Promise<VoteResult>;
  /** All votes in the order they were stored. */
  listVotes(): Promise<VoteRecord[]>;
  /**
   * Up to `limit` votes stored after `cursor` (from the first vote when undefined), oldest first,
   * and the cursor after the last of them: readers that keep it fold new votes in without reading
   * the old ones again. Cursors are opaque and belong to the store that returned them.
   */
  votesAfter(cursor: string | undefined, limit: number): Promise<VotePage>;
  /** Full battles that have a vote, in vote order (exports). Imported votes have no battle. */
  listVotedBattles(): AsyncIterable<BattleRecord>;
  /** Every stored battle, voted or not, in no particular order (the routed-prompts export). */
  listBattles(): AsyncIterable<BattleRecord>;
  /** Every vote in store order with its battle (null for an imported vote): what the board counts. */
  listVotesWithBattles(): AsyncIterable<{ vote: VoteRecord; battle: BattleRecord | null }>;
  /** One crowd vote per spectator (by session hash) per battle; a second is refused. */
  recordCrowdVote(battleId: string, voter: string, choice: VoteChoice): Promise<'ok' | 'already_voted'>;
  crowdTally(battleId: string): Promise<CrowdTally>;
  /** Stores a board's snapshot for its day, replacing that day's earlier one. */
  putSnapshot(snapshot: BoardSnapshot): Promise<void>;
  /** A board's daily snapshots, oldest day first. */
  listSnapshots(category: string, excludeTies: boolean): Promise<BoardSnapshot[]>;
  /** Bulk import (rebuild from an export). Skips battle ids already voted. Returns how many were added. */
  importVotes(votes: VoteRecord[]): Promise<number>;
}
