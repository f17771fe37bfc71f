import nodeCluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createArena, type UiHandler } from './app.js';
import type { Config } from './config/schema.js';
import { createLogger } from './infra/log.js';
import { installProcessGuard } from './process-guard.js';

/** The production entry: SvelteKit's built handler and Socket.IO on one HTTP server. */
export async function serve(config: Config): Promise<void> {
  const base = createLogger(config.logLevel);
  const logger = nodeCluster.isWorker ? base.child({ worker: nodeCluster.worker!.id }) : base;
  let stop: (reason: string, exitCode?: number) => void = (_reason, exitCode = 0) => process.exit(exitCode);
  // Installed first: a fault while starting is logged too. Before the arena exists, exit at once.
  installProcessGuard({ logger, onFatal: () => stop('uncaughtException', 1) });
  const ui = await loadUiHandler();
  if (!ui) logger.warn('no UI build found (run `npm run build`): serving the API and Socket.IO only');
  const arena = await createArena(config, { logger, ui });
  await arena.listen();

  let stopping = false;
  stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down: no new connections, streams stopped and saved');
    const force = setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, 'shutdown took too long: exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    arena.close().then(
      () => {
        logger.info('bye');
        process.exit(exitCode);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A worker of `serve --workers N` leaves Ctrl-C to the primary, which stops every worker together.
  process.on('SIGINT', () => (nodeCluster.isWorker ? undefined : stop('SIGINT')));
}

/** build/handler.js sits one level up from both server/ (tsx) and dist/ (bundle). */
async function loadUiHandler(): Promise<UiHandler | undefined> {
  const path = fileURLToPath(new URL('../build/handler.js', import.meta.url));
  if (!existsSync(path)) return undefined;
  const mod = (await import(pathToFileURL(path).href)) as { handler: UiHandler };
  return mod.handler;
}
