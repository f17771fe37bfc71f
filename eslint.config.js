// Lint for what the type checker cannot see: a promise nobody awaits or catches. A floating
// promise on the server becomes an unhandled rejection (the process guard counts it), so
// `npm test` fails on one (scripts/test.sh runs this before vitest).
import tseslint from 'typescript-eslint';

export default tseslint.config({
  files: ['server/**/*.ts'],
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
  },
  plugins: { '@typescript-eslint': tseslint.plugin },
  linterOptions: { reportUnusedDisableDirectives: 'error' },
  rules: {
    // ignoreVoid off: `void promise` is no answer either; it must end in a catch that handles it.
    '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
    '@typescript-eslint/no-misused-promises': 'error',
  },
});
