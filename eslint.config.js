// Lint for what the type checker cannot see, run by `npm test` (scripts/test.sh, one check of
// the summary) over server/, src/ (.ts), scripts/ and bench/.
//
// 1. Promises (server/, typed): a promise nobody awaits or catches becomes an unhandled
//    rejection (the process guard counts it).
// 2. Import boundaries (every linted folder). The convention, one rule each:
//    a. src/ (the UI) never imports server/. What both sides need lives in src/lib/shared
//       (protocol, vote rules), which imports neither side.
//    b. server/ imports from src/ only src/lib/shared and src/lib/server (the session rules the
//       page hooks share with the Node server), never the UI's client code, components, routes
//       or hooks.
//    c. server/sim is a program of its own (the model simulator): nothing in server/ imports it
//       except server/bootstrap.ts and server/cli.ts, which start it; it imports nothing from the
//       rest of server/ (it speaks the backends' wire protocols, not Arena's types) but the
//       seeded PRNG server/random.ts, a leaf module every harness shares.
//    d. Production code (server/, src/) never imports tests/, bench/ or scripts/. Those three may
//       import any server/ or src/ module: they are harnesses.
//    e. No import cycles among server/ and src/ modules (import-x/no-cycle).
//    .svelte files get rules a, b, d (their <script> blocks, parsed by svelte-eslint-parser);
//    svelte-check type-checks them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import svelteParser from 'svelte-eslint-parser';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;
// Rule c's targets: every entry of server/ but the simulator and the two files that start it.
const notStartingSim = readdirSync(join(root, 'server'))
  .filter((name) => !['sim', 'bootstrap.ts', 'cli.ts'].includes(name))
  .map((name) => `./server/${name}`);

// The boundaries (a–d above) as import-x/no-restricted-paths zones.
const zones = [
  { target: './src', from: './server', message: 'a: the UI never imports server/ (shared types belong in src/lib/shared).' },
  {
    target: './server',
    from: './src',
    except: ['./lib/shared', './lib/server'],
    message: 'b: server/ imports from src/ only src/lib/shared and src/lib/server.',
  },
  { target: notStartingSim, from: './server/sim', message: 'c: only server/bootstrap.ts and server/cli.ts start the simulator.' },
  { target: './server/sim', from: './server', except: ['./sim', './random.ts'], message: 'c: the simulator imports nothing from the rest of server/.' },
  { target: ['./server', './src'], from: ['./tests', './bench', './scripts'], message: 'd: production code never imports test, bench or script harnesses.' },
];

export default tseslint.config(
  { ignores: ['build/**', 'dist/**', '.svelte-kit/**', 'node_modules/**'] },
  {
    files: ['server/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.server.json', tsconfigRootDir: root },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // ignoreVoid off: `void promise` is no answer either; it must end in a catch that handles it.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['server/**/*.ts', 'src/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { 'import-x': importX },
    settings: {
      // Dependencies are parsed as TypeScript too (no-cycle follows them).
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.svelte'],
    languageOptions: { parser: svelteParser, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.svelte'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: root, zones }] },
  },
);
