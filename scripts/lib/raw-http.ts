import { connect } from 'node:net';

/** One HTTP/1.x response as it came off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

export interface RawExchange {
  /** Every complete response parsed from the bytes the server sent, in order. */
  responses: RawResponse[];
  /** Bytes after the last complete response (a well-formed exchange leaves none). */
  leftover: Buffer;
  /** The server closed the connection (rather than our timeout ending the read). */
  closedByServer: boolean;
  /** A socket error code (ECONNRESET when the server reset the connection), if any. */
  error?: string;
}

/**
 * Writes raw bytes to host:port (in pieces, with pauses, when given several) and reads whatever
 * comes back until the server closes or `timeoutMs` passes: a foreign client, no HTTP library
 * smoothing over what the server really sent.
 */
export function rawExchange(
  target: { host: string; port: number },
  pieces: (string | Buffer)[],
  opts: { timeoutMs?: number; pauseMs?: number; endAfterWrite?: boolean; headRequest?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(target.port, target.host);
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let error: string | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponses(Buffer.concat(chunks), opts.headRequest), closedByServer, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 3_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => ((closedByServer = true), finish()));
    socket.on('close', () => ((closedByServer = true), finish()));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      // A reset (or writing into a connection the server closed) is the server closing it.
      if (error === 'ECONNRESET' || error === 'EPIPE') closedByServer = true;
      finish();
    });
    socket.once('connect', () => {
      void writePieces();
    });
    async function writePieces() {
      for (const [i, piece] of pieces.entries()) {
        if (done || socket.destroyed) return;
        socket.write(piece);
        if (opts.pauseMs && i < pieces.length - 1) await new Promise((r) => setTimeout(r, opts.pauseMs));
      }
      if (opts.endAfterWrite && !socket.destroyed) socket.end();
    }
  });
}

/** Parses back-to-back HTTP/1.x responses (content-length, chunked, or body until close). */
/** `headRequest`: the response to a HEAD carries headers only, whatever content-length says. */
export function parseResponses(data: Buffer, headRequest = false): { responses: RawResponse[]; leftover: Buffer } {
  const responses: RawResponse[] = [];
  let rest = data;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const [statusLine, ...headerLines] = rest.subarray(0, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!match) break;
    const headers: Record<string, string[]> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { responses, leftover: rest };
      (headers[line.slice(0, colon).trim().toLowerCase()] ??= []).push(line.slice(colon + 1).trim());
    }
    const status = Number(match[1]);
    let bodyStart = headEnd + 4;
    let body: Buffer;
    const noBody = headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (noBody) body = Buffer.alloc(0);
    else if (headers['transfer-encoding']?.some((v) => /chunked/i.test(v))) {
      const parts: Buffer[] = [];
      let at = bodyStart;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', at);
        if (lineEnd < 0) return { responses, leftover: rest };
        const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
        if (!Number.isFinite(size)) return { responses, leftover: rest };
        if (size === 0) {
          const end = rest.indexOf('\r\n', lineEnd + 2);
          if (end < 0) return { responses, leftover: rest };
          bodyStart = end + 2;
          break;
        }
        if (rest.length < lineEnd + 2 + size + 2) return { responses, leftover: rest };
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      responses.push({ status, headers, body });
      rest = rest.subarray(bodyStart);
      continue;
    } else if (headers['content-length']) {
      const length = Number(headers['content-length'][0]);
      if (rest.length < bodyStart + length) return { responses, leftover: rest };
      body = rest.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    } else {
      body = rest.subarray(bodyStart);
      bodyStart = rest.length;
    }
    responses.push({ status, headers, body });
    rest = rest.subarray(bodyStart);
  }
  return { responses, leftover: rest };
}
