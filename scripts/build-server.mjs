// Bundles the Node runtime (server/) into dist/arena.mjs; node_modules stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { arena: 'server/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
