import type { IncomingMessage, ServerResponse } from 'node:http';
import { createInterface } from 'node:readline';
import { pipeline, Transform } from 'node:stream';
import { describeLineError, fromFastChatBattle } from '../arena/export.js';
import type { VoteRecord } from '../store/types.js';

/**
 * POST /api/admin/import: a FastChat battle file (JSONL) as the request body, read as it streams
 * in and stored in batches. Bad lines are counted by error type, never fatal. Importing is
 * idempotent (battle ids already voted are skipped), so an upload cut short (too large, dropped
 * connection) has stored whole batches only, and sending the file again adds exactly the rest.
 */

export interface ImportDeps {
  importVotes(votes: VoteRecord[]): Promise<number>;
  /** Called once after a request that added votes: the boards refresh, on every instance. */
  imported(added: number): void;
  maxBytes: number;
}

export interface ImportReport {
  imported: number;
  alreadyPresent: number;
  badLines: number;
  /** Bad lines per error type: "invalid_json", or "invalid_field:<dotted path>". */
  errorCounts: Record<string, number>;
  /** The first few bad lines, 1-based, for a person to look at. */
  errors: { line: number; code: string; message: string }[];
}

const BATCH = 1_000;
const SHOWN_ERRORS = 20;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The body is larger than ${limit} bytes (limits.importMaxBytes).`);
  }
}

export async function handleImport(req: IncomingMessage, res: ServerResponse, deps: ImportDeps, reply: (status: number, body: unknown) => void): Promise<void> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > deps.maxBytes) {
    // Say so before reading anything; the connection closes, so the unread body is not drained.
    res.setHeader('connection', 'close');
    return reply(413, { error: { code: 'too_large', message: new BodyTooLargeError(deps.maxBytes).message } });
  }
  const report: ImportReport = { imported: 0, alreadyPresent: 0, badLines: 0, errorCounts: {}, errors: [] };
  let batch: VoteRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const added = await deps.importVotes(batch);
    report.imported += added;
    report.alreadyPresent += batch.length - added;
    batch = [];
  };
  let lineNumber = 0;
  try {
    // pipeline, not pipe: a client that hangs up mid-upload fails the read instead of leaving it waiting.
    const limited = byteLimit(deps.maxBytes);
    pipeline(req, limited, () => undefined);
    const lines = createInterface({ input: limited, crlfDelay: Infinity });
    for await (const content of lines) {
      lineNumber++;
      if (content.trim() === '') continue;
      const vote = parseLine(content, lineNumber, report);
      if (vote) batch.push(vote);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) {
      // The client went away: what was stored stays (a retry adds only the rest); nobody to answer.
      if (req.destroyed || req.readableAborted) return;
      throw err;
    }
    await flush();
    res.setHeader('connection', 'close');
    return reply(413, { error: { code: 'too_large', message: `${err.message} Stored before the limit: ${report.imported} votes; sending the file again adds only the rest.` }, report });
  } finally {
    if (report.imported > 0) deps.imported(report.imported);
  }
  reply(200, report);
}

function parseLine(content: string, line: number, report: ImportReport): VoteRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    countError(report, line, 'invalid_json', describeLineError(error));
    return null;
  }
  try {
    return fromFastChatBattle(value);
  } catch (error) {
    const message = describeLineError(error);
    countError(report, line, `invalid_field:${message.split(':')[0]}`, message);
    return null;
  }
}

function countError(report: ImportReport, line: number, code: string, message: string): void {
  report.badLines++;
  report.errorCounts[code] = (report.errorCounts[code] ?? 0) + 1;
  if (report.errors.length < SHOWN_ERRORS) report.errors.push({ line, code, message });
}

/** Passes bytes through until `limit`, then fails the stream with BodyTooLargeError. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(new BodyTooLargeError(limit));
      else callback(null, chunk);
    },
  });
}
