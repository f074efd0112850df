// eslint.config.js - the JavaScript linter of the project (ESLint 9, flat
// config): html/js (browser ES modules, plus Debian's janus.js and
// webrtc-adapter as globals loaded by <script> before them), the e2ee worker,
// and the node code of tests/, scripts/ and bench/. Only rules that find
// bugs (eslint:recommended) plus a few that keep the code plain; formatting
// is left to the authors. Run: npx eslint . (scripts/test stage `lint`).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/**', 'build*/**', 'tests/artifacts/**', 'html/vendor/**'] },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-implicit-globals': 'error',
    },
  },
  {
    files: ['html/**/*.mjs', 'html/**/*.js'],
    languageOptions: {
      globals: { ...globals.browser, Janus: 'readonly', adapter: 'readonly' },
    },
  },
  {
    // a classic worker script: its top level is the worker's own scope
    files: ['html/js/e2ee-worker.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.worker } },
    rules: { 'no-implicit-globals': 'off' },
  },
  {
    // page functions of the E2EE test run in tests/browser/pages/e2ee.html,
    // whose module exposes its test driver as the global T
    files: ['tests/browser/e2ee.test.mjs'],
    languageOptions: { globals: { T: 'readonly' } },
  },
  {
    files: ['tests/**', 'scripts/**', 'bench/**', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // page functions that tests hand to the browser (page.evaluate) run there
    files: ['tests/browser/**', 'tests/nat/**', 'tests/resilience/**', 'tests/webkit/**', 'bench/**'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
];
