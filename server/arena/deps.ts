import type { Logger } from 'pino';
import type { Cluster } from '../cluster/types.js';
import type { Metrics } from '../infra/metrics.js';
import type { RoutedPart } from '../models/failover.js';
import type { ChatRequest } from '../providers/types.js';
import type { ToolPath } from '../router/tool-path.js';
import type { BattleRecord, Store } from '../store/types.js';
import type { BattlePort } from './port.js';

/** What the arena needs from the model layer (the registry implements it). */
export interface ArenaModels {
  available(): string[];
  describe(modelId: string): { label: string; demo: boolean };
  leakWords(modelId: string): string[];
  stream(modelId: string, req: Omit<ChatRequest, 'model'>): AsyncIterable<RoutedPart>;
}

export interface ArenaLimits {
  systemPrompt: string;
  maxPromptChars: number;
  maxTurns: number;
  maxTokens: number;
  /** `matched`: both sides' text at the slower side's pace (pacer.ts). */
  pacing?: 'off' | 'matched';
  /** Terms shown before a visitor's first prompt; empty or absent = none. */
  dataNotice?: string;
}

/** Chooses the next pair among available models (strategy lives in server/rating/pairing). */
export type PairPicker = (models: string[], exclude: Set<string>) => [string, string] | null;

/** Everything the battles need from the rest of the server. */
export interface BattleDeps {
  store: Store;
  cluster: Cluster;
  models: ArenaModels;
  limits: ArenaLimits;
  logger: Logger;
  metrics: Metrics;
  pickPair: PairPicker;
  /** Where battles publish: frames, resyncs, forwarded owner actions, vote notices (port.ts). */
  port: BattlePort;
  /** Called after each stored vote (ratings recompute). */
  onVote?(battle: BattleRecord): void;
  /** The router and the tool-calling model; without it every prompt goes to the arena. */
  tools?: ToolPath;
  /** Conversations are downloadable without the admin token (`exportAccess: public`). */
  publicExport?: boolean;
}

/** Who is asking: the session's hash, and how to subscribe the asking socket to a battle. */
export interface Caller {
  sessionHash: string;
  /** Resolves once the socket gets the battle's frames from every instance: read the battle only after. */
  join(battleId: string): Promise<void>;
}
