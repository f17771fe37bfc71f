import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The guard in its own process: a test runner's own fault handlers would hide what it does. */
function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'tests/fixtures/process-guard-child.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('process guard', () => {
  it('logs an unhandled rejection with its stack and continues; logs an uncaught exception, counts both, exits 1', async () => {
    const { code, stdout, stderr } = await runChild();
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; fault?: string; level?: number; err?: { message: string; stack: string } });
    const rejection = lines.find((l) => l.fault === 'unhandledRejection');
    expect(rejection?.err?.message).toBe('rejected on purpose');
    expect(rejection?.err?.stack).toContain('process-guard-child.ts');
    expect(rejection?.level).toBe(50);
    // It continued: the timer after the rejection ran.
    expect(lines.map((l) => l.msg)).toContain('still alive after rejection');
    const exception = lines.find((l) => l.fault === 'uncaughtException');
    expect(exception?.err?.message).toBe('thrown on purpose');
    expect(exception?.err?.stack).toContain('process-guard-child.ts');
    expect(exception?.level).toBe(60);
    expect(stderr).toContain('arena_process_faults_total{kind="unhandledRejection"} 1');
    expect(stderr).toContain('arena_process_faults_total{kind="uncaughtException"} 1');
    expect(code).toBe(1);
  });
});
