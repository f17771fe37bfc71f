import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ProviderError } from './errors.js';
import { retryOnStaleSocket } from './stale-socket.js';

/**
 * A streaming POST over node:http(s), its body handed over as batches of lines. Why not fetch:
 * undici's WHATWG streams cost ≈ 25 µs more per streamed token on this project's machine than
 * node:http's events (`npx tsx bench/token-path.ts`), the largest single cost of the token path.
 * One keep-alive agent per protocol, so answer after answer reuses its connection.
 */

const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };
/** Longest a finished answer's remaining body is read for, so its connection can be reused. */
const DRAIN_MS = 1_000;
/** More than this after the protocol's last message: the body is not just its end, so cancel it. */
const DRAIN_MAX_BYTES = 64 * 1024;
/** An error body longer than this is cut: it only goes into a message. */
const ERROR_BODY_MAX = 16 * 1024;

export interface StreamingResponse {
  status: number;
  /** The body as line batches (for a successful status); call once, or `text`. */
  lines(): LineBatches;
  /** The whole body as text (at most 16 KiB, for an error status); call once, or `lines`. */
  text(): Promise<string>;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** Posts `body`; resolves once the response headers are in (a stale pooled connection is retried once). */
export function postStreaming(url: URL, opts: PostOptions): Promise<StreamingResponse> {
  return retryOnStaleSocket(() => post(url, opts), opts.signal);
}

function post(url: URL, { headers, body, signal }: PostOptions): Promise<StreamingResponse> {
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return Promise.reject(new ProviderError('bad_request', `unsupported URL scheme ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      agent: agents[https ? 'https:' : 'http:'],
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal,
    });
    req.on('response', (res) => {
      res.setEncoding('utf8'); // a multi-byte character cut across two reads survives intact
      res.on('error', () => undefined); // the reader chosen below reports it
      resolve({ status: res.statusCode ?? 0, lines: () => new LineBatches(res), text: () => readText(res) });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > ERROR_BODY_MAX) res.destroy();
    });
    res.on('close', () => resolve(text.slice(0, ERROR_BODY_MAX)));
    res.on('error', () => undefined); // what arrived is enough for a message
  });
}

/**
 * The lines of a response body, those of one network read as one batch: under load the kernel
 * hands over many NDJSON lines per read, and a caller that merges a batch's tokens passes them down
 * its pipeline once, not once each. `close()` must be called (in a finally).
 */
export class LineBatches {
  private buffered = '';
  private readonly ready: string[][] = [];
  private ended = false;
  private failure: Error | undefined;
  /** `close()` was called: nothing more is handed over. */
  private closed = false;
  private waiting: { resolve: (batch: string[] | null) => void; reject: (err: Error) => void } | undefined;

  constructor(private readonly res: IncomingMessage) {
    res.on('data', (text: string) => this.receive(text));
    res.on('end', () => {
      this.ended = true;
      const last = stripCarriageReturn(this.buffered);
      this.buffered = '';
      if (last) this.deliver([last]);
      this.settleWaiting();
    });
    // A connection lost mid-body: 'error' (ECONNRESET, "aborted") or, at least, 'close' before 'end'.
    res.on('error', (err) => this.fail(err));
    res.on('close', () => {
      if (!this.ended) this.fail(Object.assign(new Error('connection closed before the end of the response'), { code: 'ECONNRESET' }));
    });
  }

  /** The next non-empty batch of lines; null once the body has ended. */
  next(): Promise<string[] | null> {
    const batch = this.ready.shift();
    if (batch) {
      if (this.ready.length === 0) this.res.resume();
      return Promise.resolve(batch);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * Stops reading. Before the body's end the response is destroyed, which closes its connection.
   * After the protocol's last message (`complete`) what is left is normally just the body's end:
   * it is read in the background instead, so the next request reuses the connection.
   */
  close(complete = false): void {
    if (this.ended || this.failure || this.closed) return;
    this.closed = true;
    if (!complete) return void this.res.destroy();
    let bytes = 0;
    const timer = setTimeout(() => this.res.destroy(), DRAIN_MS).unref();
    this.res.on('data', (text: string) => {
      bytes += text.length;
      if (bytes > DRAIN_MAX_BYTES) this.res.destroy();
    });
    this.res.on('close', () => clearTimeout(timer));
    this.res.resume();
  }

  private receive(text: string): void {
    if (this.closed) return; // draining or destroyed
    this.buffered += text;
    const lines = this.buffered.split('\n');
    this.buffered = lines.pop()!;
    const batch: string[] = [];
    for (const line of lines) {
      const stripped = stripCarriageReturn(line);
      if (stripped) batch.push(stripped);
    }
    if (batch.length) this.deliver(batch);
  }

  private deliver(batch: string[]): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      return waiting.resolve(batch);
    }
    this.ready.push(batch);
    // The reader is behind: let TCP push back instead of buffering the whole answer here.
    if (!this.ended) this.res.pause();
  }

  private fail(err: Error): void {
    if (this.ended || this.failure || this.closed) return;
    this.failure = err;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(null);
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
