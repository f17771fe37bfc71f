/**
 * What the HTTP fuzzer sends: a seeded plan of raw HTTP/1.x requests (and plain TCP garbage) over
 * every route and method of the app, the engine path with every transport/EIO/sid combination,
 * malformed and oversized headers, odd URLs and encodings, bodies of many sizes, truncated and
 * slow requests. Pure: the same seed gives the same plan.
 */
import { Rng } from '../../server/random.js';

export type HttpFuzzKind =
  | 'route'
  | 'engine'
  | 'badHeader'
  | 'bigHeader'
  | 'oddUrl'
  | 'body'
  | 'truncated'
  | 'slow'
  | 'pipelined'
  | 'garbage';

export interface PlannedRequest {
  kind: HttpFuzzKind;
  variant: string;
  /** Bytes to write, in order; with several pieces the fuzzer pauses between them (slow client). */
  pieces: Buffer[];
  /** How many complete responses a correct server sends (undefined: any number, the connection may just close). */
  expectResponses?: number;
  headRequest?: boolean;
  /** The client half-closes after writing (a truncated request) instead of waiting. */
  endAfterWrite?: boolean;
  /** How long to wait for the answer. */
  readTimeoutMs: number;
}

/** Every route Arena itself answers, the UI's pages and assets, and paths nobody serves. */
const PATHS = [
  '/',
  '/healthz',
  '/readyz',
  '/metrics',
  '/api/models',
  '/api/status',
  '/api/session',
  '/api/export/battles.jsonl',
  '/api/export/preferences.jsonl',
  '/api/admin/config',
  '/api/admin/status',
  '/api/admin/refresh',
  '/leaderboard',
  '/status',
  '/watch/abc123',
  '/watch/abc123?t=xyz',
  '/watch/',
  '/favicon.ico',
  '/robots.txt',
  '/_app/version.json',
  '/_app/immutable/entry/start.js',
  '/_app/immutable/nope.js',
  '/__data.json',
  '/leaderboard/__data.json',
  '/nope',
  '/api/nope',
  '/socket.io',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'get', 'G3T', 'CONNECT'];
const TRANSPORTS = ['polling', 'websocket', 'webtransport', '', 'x'.repeat(40), 'polling%00', 'WEBSOCKET'];
const EIOS = ['4', '3', '5', '', '0', '-1', '4.0', 'x', '99999999999999999999'];
const SIDS = [undefined, '', 'AAAAAAAAAAAAAAAAAAAA', 'nope', 'x'.repeat(300), '%zz', '../../etc/passwd'];

/** Lazily: large bodies exist only while they are sent. */
export function* planRequests(seed: number, count: number): Generator<PlannedRequest> {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const kind = rng.weighted<HttpFuzzKind>({
      route: 24,
      engine: 22,
      badHeader: 8,
      bigHeader: 5,
      oddUrl: 12,
      body: 10,
      truncated: 5,
      slow: 2,
      pipelined: 4,
      garbage: 8,
    });
    yield PLANNERS[kind](rng);
  }
}

const PLANNERS: Record<HttpFuzzKind, (rng: Rng) => PlannedRequest> = {
  route: (rng) => {
    const method = rng.pick(METHODS);
    const path = rng.pick(PATHS);
    const headers = rng.chance(0.3) ? [authHeader(rng)] : [];
    if (rng.chance(0.2)) headers.push(`X-Forwarded-Proto: ${rng.pick(['https', 'http', 'https, http', 'gopher', ''])}`);
    const request = complete('route', `${method} ${path}`, method, path, headers, bodyFor(rng, method));
    // Node hands CONNECT to a 'connect' listener, and with none closes the connection unanswered.
    return method === 'CONNECT' ? { ...request, expectResponses: undefined } : request;
  },
  engine: (rng) => {
    const method = rng.pick(['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE']);
    const params: string[] = [];
    const eio = rng.pick(EIOS);
    const transport = rng.pick(TRANSPORTS);
    const sid = rng.pick(SIDS);
    if (rng.chance(0.85)) params.push(`EIO=${eio}`);
    if (rng.chance(0.85)) params.push(`transport=${transport}`);
    if (sid !== undefined) params.push(`sid=${sid}`);
    if (rng.chance(0.2)) params.push(`t=${rng.int(0, 1e9).toString(36)}`);
    if (rng.chance(0.1)) params.push('b64=1');
    const path = `${rng.pick(['/socket.io/', '/socket.io/?', '/socket.io//', '/socket.io/x/'])}${params.length ? (rng.chance(0.5) ? '?' : '&') + params.join('&') : ''}`.replace('/?&', '/?').replace('??', '?');
    const headers: string[] = [];
    // A WebSocket handshake's headers without the server being asked to upgrade, or with broken ones.
    if (rng.chance(0.3)) headers.push('Upgrade: websocket', `Sec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', 'short', ''])}`, 'Sec-WebSocket-Version: 13');
    if (rng.chance(0.2)) headers.push(`Origin: ${rng.pick(['http://evil.test', 'null', 'http://arena.test'])}`);
    if (rng.chance(0.2)) headers.push(`Cookie: arena_session=${rng.pick(['%E0%A4%A', 'x'.repeat(43), ''])}`);
    return complete('engine', `${method} eio=${eio} transport=${transport} sid=${sid === undefined ? '-' : sid.slice(0, 8)}`, method, path, headers, bodyFor(rng, method));
  },
  badHeader: (rng) => {
    const variant = rng.pick(['noColon', 'spaceInName', 'ctlInValue', 'dupHost', 'noHost', 'badContentLength', 'dupContentLength', 'clAndTe', 'badTe', 'obsFold', 'nulInValue', 'emptyName', 'utf8Name']);
    const lines: Record<string, string[]> = {
      noColon: ['Host: arena.test', 'ThisHasNoColon'],
      spaceInName: ['Host: arena.test', 'Bad Name: x'],
      ctlInValue: ['Host: arena.test', 'X-A: a\x01b\x7f'],
      dupHost: ['Host: arena.test', 'Host: other.test'],
      noHost: [],
      badContentLength: ['Host: arena.test', 'Content-Length: -5'],
      dupContentLength: ['Host: arena.test', 'Content-Length: 3', 'Content-Length: 4'],
      clAndTe: ['Host: arena.test', 'Content-Length: 3', 'Transfer-Encoding: chunked'],
      badTe: ['Host: arena.test', 'Transfer-Encoding: gzip, identity'],
      obsFold: ['Host: arena.test', 'X-A: a', ' folded'],
      nulInValue: ['Host: arena.test', 'X-A: a\x00b'],
      emptyName: ['Host: arena.test', ': value'],
      utf8Name: ['Host: arena.test', 'X-Ünï: v'],
    };
    const path = rng.pick([...PATHS, '/socket.io/?EIO=4&transport=polling']);
    const head = `${rng.pick(['GET', 'POST'])} ${path} HTTP/1.1\r\n${lines[variant].join('\r\n')}${lines[variant].length ? '\r\n' : ''}Connection: close\r\n\r\n`;
    return { kind: 'badHeader', variant, pieces: [Buffer.from(head, 'latin1')], readTimeoutMs: 3_000 };
  },
  bigHeader: (rng) => {
    const variant = rng.pick(['longValue', 'manyHeaders', 'longCookie', 'longAuth', 'longName']);
    const size = rng.pick([4_000, 16_000, 17_000, 64_000, 200_000]);
    const extra: Record<string, () => string[]> = {
      longValue: () => [`X-Long: ${'v'.repeat(size)}`],
      manyHeaders: () => Array.from({ length: Math.min(size / 10, 3_000) }, (_, i) => `X-H${i}: ${i}`),
      longCookie: () => [`Cookie: ${'a=b; '.repeat(size / 5)}`],
      longAuth: () => [`Authorization: Bearer ${'t'.repeat(size)}`],
      longName: () => [`X-${'n'.repeat(size)}: v`],
    };
    const path = rng.pick([...PATHS, '/socket.io/?EIO=4&transport=websocket']);
    return complete('bigHeader', `${variant} ${size}`, 'GET', path, extra[variant]());
  },
  oddUrl: (rng) => {
    const variant = rng.pick(['badPercent', 'overlong', 'traversal', 'absolute', 'asterisk', 'longUrl', 'rawUtf8', 'backslash', 'doubleSlash', 'manyParams', 'nul', 'fragment', 'noSlash', 'encodedSlash']);
    const urls: Record<string, () => string> = {
      badPercent: () => rng.pick(['/%', '/%zz', '/watch/%E0%A4%A', '/api/%', '/socket.io/?EIO=%zz&transport=%', '/?q=%ff%fe']),
      overlong: () => rng.pick(['/%c0%af', '/%e0%80%af', '/_app/%c0%ae%c0%ae/']),
      traversal: () => rng.pick(['/../../etc/passwd', '/_app/../../../etc/passwd', '/_app/immutable/..%2f..%2f..%2fpackage.json', '/static/../server/app.ts', '/%2e%2e/%2e%2e/etc/passwd']),
      absolute: () => rng.pick(['http://arena.test/', 'http://evil.test/healthz', 'http://arena.test/socket.io/?EIO=4&transport=polling', 'https://x/api/status']),
      asterisk: () => '*',
      longUrl: () => `/${'a'.repeat(rng.pick([1_000, 8_000, 20_000, 70_000]))}`,
      rawUtf8: () => '/wätch/ünïcødé/😀',
      backslash: () => rng.pick(['/\\..\\..\\etc\\passwd', '\\healthz', '/api\\status']),
      doubleSlash: () => rng.pick(['//healthz', '//evil.test/', '///api/status', '/socket.io//?EIO=4']),
      manyParams: () => `/?${Array.from({ length: rng.pick([100, 2_000]) }, (_, i) => `p${i}=${i}`).join('&')}`,
      nul: () => rng.pick(['/healthz%00', '/api/status%00.json']),
      fragment: () => '/healthz#frag',
      noSlash: () => rng.pick(['healthz', '?x=1', '']),
      encodedSlash: () => '/api%2fstatus',
    };
    const method = rng.pick(['GET', 'POST', 'OPTIONS', 'HEAD']);
    return complete('oddUrl', variant, method, urls[variant](), []);
  },
  body: (rng) => {
    const method = rng.pick(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']);
    const path = rng.pick(['/api/session', '/api/admin/refresh', '/', '/healthz', '/socket.io/?EIO=4&transport=polling', '/api/status', '/leaderboard']);
    const size = rng.pick([0, 1, 17, 1_000, 65_536, 300_000, 1_200_000]);
    const shape = rng.pick(['json', 'garbage', 'binary', 'form', 'chunked']);
    const body = bodyOf(rng, shape, size);
    if (shape === 'chunked') {
      const chunked = chunk(body, rng);
      const head = `${method} ${path} HTTP/1.1\r\nHost: arena.test\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n`;
      return { kind: 'body', variant: `${method} chunked ${size}`, pieces: [Buffer.from(head), chunked], expectResponses: 1, headRequest: method === 'HEAD', readTimeoutMs: 5_000 };
    }
    const contentType = { json: 'application/json', garbage: 'text/plain', binary: 'application/octet-stream', form: 'application/x-www-form-urlencoded' }[shape];
    return complete('body', `${method} ${shape} ${size}`, method, path, [`Content-Type: ${contentType}`], body);
  },
  truncated: (rng) => {
    const variant = rng.pick(['midRequestLine', 'midHeaders', 'shortBody', 'badChunk', 'noFinalChunk']);
    const text: Record<string, string> = {
      midRequestLine: 'GET /heal',
      midHeaders: 'GET /healthz HTTP/1.1\r\nHost: arena.test\r\nX-Half: ',
      shortBody: 'POST /api/session HTTP/1.1\r\nHost: arena.test\r\nContent-Length: 1000\r\n\r\n{"a":',
      badChunk: 'POST /api/session HTTP/1.1\r\nHost: arena.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      noFinalChunk: 'POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: arena.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
    };
    return { kind: 'truncated', variant, pieces: [Buffer.from(text[variant])], endAfterWrite: true, readTimeoutMs: 1_000 };
  },
  slow: (rng) => {
    // A complete request dribbled in pieces with pauses (bounded: a few pieces, short pauses).
    const path = rng.pick(['/healthz', '/', '/socket.io/?EIO=4&transport=polling', '/api/status']);
    const text = `GET ${path} HTTP/1.1\r\nHost: arena.test\r\nConnection: close\r\n\r\n`;
    const cuts = [...new Set([rng.int(1, text.length - 1), rng.int(1, text.length - 1), rng.int(1, text.length - 1)])].sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let at = 0;
    for (const cut of [...cuts, text.length]) (pieces.push(Buffer.from(text.slice(at, cut))), (at = cut));
    return { kind: 'slow', variant: `${pieces.length} pieces ${path}`, pieces, expectResponses: 1, readTimeoutMs: 5_000 };
  },
  pipelined: (rng) => {
    const n = rng.int(2, 6);
    let text = '';
    for (let i = 0; i < n; i++) {
      const path = rng.pick(['/healthz', '/socket.io/?EIO=4&transport=polling', '/socket.io/', '/api/models', '/nope', '/socket.io/?EIO=4&transport=websocket']);
      text += `GET ${path} HTTP/1.1\r\nHost: arena.test\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    return { kind: 'pipelined', variant: `${n} requests`, pieces: [Buffer.from(text)], expectResponses: n, readTimeoutMs: 5_000 };
  },
  garbage: (rng) => {
    const variant = rng.pick(['random', 'tlsHello', 'http2Preface', 'http09', 'sshBanner', 'crlfFlood', 'nulls', 'httpVersion']);
    const bytes: Record<string, () => Buffer> = {
      random: () => Buffer.from(Array.from({ length: rng.int(1, 4_096) }, () => rng.int(0, 255))),
      tlsHello: () => Buffer.from('16030100a5010000a10303' + '00'.repeat(64), 'hex'),
      http2Preface: () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      http09: () => Buffer.from('GET /\r\n'),
      sshBanner: () => Buffer.from('SSH-2.0-OpenSSH_9.0\r\n'),
      crlfFlood: () => Buffer.from('\r\n'.repeat(rng.int(1, 20_000))),
      nulls: () => Buffer.alloc(rng.int(1, 2_000)),
      httpVersion: () => Buffer.from(`GET /healthz HTTP/${rng.pick(['9.9', '1.2', '0.9', 'x', '1'])}\r\nHost: arena.test\r\n\r\n`),
    };
    return { kind: 'garbage', variant, pieces: [bytes[variant]()], endAfterWrite: rng.chance(0.5), readTimeoutMs: 1_500 };
  },
};

/** A complete request with Connection: close: a correct server sends exactly one response. */
function complete(kind: HttpFuzzKind, variant: string, method: string, path: string, headers: string[], body: string | Buffer = ''): PlannedRequest {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: arena.test', ...headers, 'Connection: close'];
  if (bodyBytes.length || ['POST', 'PUT', 'PATCH'].includes(method)) lines.push(`Content-Length: ${bodyBytes.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
  return { kind, variant, pieces: [Buffer.concat([head, bodyBytes])], expectResponses: 1, headRequest: method === 'HEAD', readTimeoutMs: 5_000 };
}

function authHeader(rng: Rng): string {
  return rng.pick(['Authorization: Bearer wrong-token-0123456789', 'Authorization: Basic YTpi', 'Authorization: Bearer ', 'Authorization: ' + 'x'.repeat(500)]);
}

function bodyFor(rng: Rng, method: string): string {
  if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) || rng.chance(0.5)) return '';
  return rng.pick(['{}', '{"a":1}', '1:6', '40', 'null', '[', '\u0000\u0001']);
}

function bodyOf(rng: Rng, shape: string, size: number): Buffer {
  if (shape === 'binary' || shape === 'chunked') {
    // A random 4 KiB block repeated: random enough for a parser, cheap at a megabyte.
    const block = Buffer.from(Array.from({ length: 4_096 }, () => rng.int(0, 255)));
    return Buffer.alloc(size, block);
  }
  if (shape === 'json') return Buffer.from(JSON.stringify({ prompt: 'x'.repeat(Math.max(0, size - 14)) }).slice(0, Math.max(size, 2)));
  if (shape === 'form') return Buffer.from(`a=${'b'.repeat(Math.max(0, size - 2))}`);
  return Buffer.alloc(size, 'z');
}

function chunk(body: Buffer, rng: Rng): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = Math.min(body.length - at, rng.int(1, 65_536));
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
