import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The e2e layer runs the built app; build it when `npm test` has not already. */
export default function setup(): void {
  if (existsSync('build/handler.js') && existsSync('dist/arena.mjs')) return;
  execSync('npm run build', { stdio: 'inherit' });
}
