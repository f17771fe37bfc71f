/** Command-line plumbing shared by the long-running scripts (fuzz, soak); options: node:util parseArgs. */
import { pathToFileURL } from 'node:url';

/**
 * Runs `main` only when `moduleUrl` is the file node was started with, so tests can import the
 * script's functions without running it. A throw prints its stack and exits 2 (1 means "failed").
 */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  });
}

/** On Ctrl-C or SIGTERM, `cleanup` (stop the processes this run started) and exit 130. */
export function cleanupOnSignal(cleanup: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
