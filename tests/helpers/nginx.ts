import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/process.js';

/**
 * The repository's nginx config (deploy/nginx.conf), run by Debian's nginx as a child process:
 * rendered onto ephemeral ports and a temporary prefix, everything else as shipped. Each edit
 * must match the shipped text, so a test fails rather than silently testing another config.
 */
export interface NginxOptions {
  /** host:port of each Arena instance (replaces the compose service names). */
  upstreams: string[];
  /** Terminate TLS with a self-signed certificate for `arena.test` (X-Forwarded-Proto is then https by $scheme). */
  tls?: boolean;
  /** Force this X-Forwarded-Proto (a proxy that claims a scheme the browser did not use). */
  forwardedProto?: string;
}

export interface RunningNginx {
  port: number;
  stop(): Promise<void>;
}

export async function startNginx(opts: NginxOptions): Promise<RunningNginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'arena-nginx-'));
  for (const dir of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) mkdirSync(join(prefix, dir));
  const port = await freePort();
  let site = readFileSync('deploy/nginx.conf', 'utf8');
  site = replaceOnce(site, /upstream arena \{[^}]*?keepalive/s, `upstream arena {\n${opts.upstreams.map((u) => `  server ${u};`).join('\n')}\n  keepalive`);
  if (opts.tls) {
    writeCertificate(prefix);
    site = replaceOnce(
      site,
      /listen 80;/,
      `listen 127.0.0.1:${port} ssl;\n  ssl_certificate ${join(prefix, 'cert.pem')};\n  ssl_certificate_key ${join(prefix, 'key.pem')};`,
    );
  } else site = replaceOnce(site, /listen 80;/, `listen 127.0.0.1:${port};`);
  if (opts.forwardedProto) site = replaceOnce(site, /proxy_set_header X-Forwarded-Proto \$scheme;/, `proxy_set_header X-Forwarded-Proto ${opts.forwardedProto};`);
  const conf = [
    'daemon off;',
    'master_process off;',
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${join(prefix, 'logs/error.log')} warn;`,
    'events { worker_connections 512; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(prefix, t === 'client_body' ? 'body' : t)};`),
    site,
    '}',
  ].join('\n');
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const proc: ChildProcess = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'logs/error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  await untilAccepting(port, proc, () => stderr + readLog(prefix));
  return {
    port,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGQUIT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function replaceOnce(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`deploy/nginx.conf no longer contains ${pattern}: update tests/helpers/nginx.ts`);
  return text.replace(pattern, replacement);
}

function writeCertificate(prefix: string): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', join(prefix, 'key.pem'), '-out', join(prefix, 'cert.pem'),
    '-subj', '/CN=arena.test', '-addext', 'subjectAltName=DNS:arena.test',
  ], { stdio: 'ignore' });
}

function readLog(prefix: string): string {
  try {
    return readFileSync(join(prefix, 'logs/error.log'), 'utf8');
  } catch {
    return '';
  }
}

async function untilAccepting(port: number, proc: ChildProcess, why: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${why()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${why()}`);
}
