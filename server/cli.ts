import { createWriteStream, readFileSync } from 'node:fs';
import { parseBattleFile } from './arena/export.js';
import { exportLines } from './arena/export-lines.js';
import { ConfigError, describeConfig, loadConfig } from './config/load.js';
import { createLogger } from './infra/log.js';
import { routedPromptRows } from './router/routed-export.js';
import { openStore } from './store/index.js';

const USAGE = `usage: arena <command>
  serve [--workers N|auto]      run Arena (default); N worker processes on one port
                                (auto = one per core; without Redis they share state
                                through the primary process)
  sim [--flavor ollama|vllm] [--port N] [--models file.json] [--sleep-mode]
                                run the model simulator
  config check                  validate the configuration and print it, secrets masked
  export [battles|preferences|routed] [--out FILE]
                                write voted battles as FastChat JSONL (or DPO pairs), or
                                the router's decisions with the user's overrides (routed)
  import FILE                   load a FastChat battle file into the store (ratings rebuild)`;

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { config } = loadConfig();
      const flag = rest.indexOf('--workers');
      const { parseWorkers, runPrimary } = await import('./workers.js');
      const workers = parseWorkers(flag >= 0 ? rest[flag + 1] : undefined);
      const { default: nodeCluster } = await import('node:cluster');
      if (workers > 1 && nodeCluster.isPrimary)
        return runPrimary(workers, { logger: createLogger(config.logLevel), withRedis: Boolean(config.redisUrl), graceMs: config.shutdownGraceMs });
      const { serve } = await import('./main.js');
      return serve(config);
    }
    case 'sim': {
      const { runSimulatorCli } = await import('./sim/cli.js');
      return runSimulatorCli(rest);
    }
    case 'config': {
      if (rest[0] !== 'check') break;
      const { config, source } = loadConfig();
      console.log(`# configuration from ${source}, environment overrides applied; valid`);
      console.log(JSON.stringify(describeConfig(config), null, 2));
      return;
    }
    case 'export':
      return exportBattles(rest);
    case 'import':
      return importBattles(rest[0]);
    case 'help':
    case '--help':
      console.log(USAGE);
      return;
  }
  console.error(USAGE);
  process.exitCode = 2;
}

async function exportBattles(args: string[]): Promise<void> {
  const kind = args[0] === 'preferences' ? 'preferences' : args[0] === 'routed' ? 'routed' : 'battles';
  const outIndex = args.indexOf('--out');
  const out: NodeJS.WritableStream = outIndex >= 0 ? createWriteStream(args[outIndex + 1]) : process.stdout;
  const { config } = loadConfig();
  const store = openStore(config, createLogger('warn'));
  let n = 0;
  if (kind === 'routed') {
    for (const row of await routedPromptRows(store.listBattles())) {
      out.write(JSON.stringify(row) + '\n');
      n++;
    }
    await store.close();
    if (out !== process.stdout) out.end();
    console.error(`exported ${n} routed prompts`);
    return;
  }
  for await (const line of exportLines(store, kind, config.arena.hygiene)) {
    if (!out.write(line + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    n++;
  }
  await store.close();
  if (out !== process.stdout) out.end();
  console.error(`exported ${n} ${kind}`);
}

async function importBattles(file: string | undefined): Promise<void> {
  if (!file) throw new ConfigError('import needs a file: arena import battles.jsonl');
  const { votes, errors } = parseBattleFile(readFileSync(file, 'utf8'));
  for (const e of errors) console.error(`line ${e.line}: ${e.message}`);
  const store = openStore(loadConfig().config, createLogger('warn'));
  const added = await store.importVotes(votes);
  await store.close();
  console.error(`imported ${added} votes (${votes.length - added} already present, ${errors.length} bad lines)`);
}

main(process.argv.slice(2)).catch((err) => {
  // A person reads this: configuration problems get their message, never a stack trace.
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`arena: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
