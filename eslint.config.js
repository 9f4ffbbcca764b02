// Lint configuration: typescript-eslint's recommended rules, with `any` banned outright.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Pure rooms: decisions from data, no I/O (docs/architecture.md). They never import registry/ (the
 * network), shell/, cli/, nor the file system or processes: whatever they need arrives as data.
 */
export const PURE_FILES = [
  'src/plan/**/*.ts',
  'src/graph/**/*.ts',
  'src/report/**/*.ts',
  'src/dockerfile/**/*.ts',
  'src/matrix/**/*.ts',
  'src/build-key.ts',
  'src/digest.ts',
  'src/reference.ts',
  'src/platform.ts',
  'src/errors.ts',
  'src/limit.ts',
  'src/timings.ts',
  'src/secret.ts',
  'src/imageinfo/{types,match,update,merge,labels,location}.ts',
  'src/execute/{compose,pin,inputs}.ts',
];

const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'dns'].flatMap((name) => [name, `node:${name}`]);

export const pureRoomImports = {
  files: PURE_FILES,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: IO_MODULES.map((name) => ({ name, message: 'pure rooms do no I/O: the shell reads and hands the data in (docs/architecture.md)' })),
        patterns: [
          {
            group: ['**/registry', '**/registry/**', '**/shell/**', '**/cli/**'],
            message: 'pure rooms never import registry/, shell/ or cli/: the shell asks the registry and hands the answers in (docs/architecture.md)',
          },
        ],
      },
    ],
  },
};

/** Commands are thin: they parse options, call shell/, and print with the pure renderers. */
export const commandImports = {
  files: ['src/cli/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: ['**/execute/**', '**/imageinfo/**', '**/manifest/**', '**/context/**', '**/dockerfile/**'],
            message: 'commands go through shell/, which gathers the I/O (docs/architecture.md)',
          },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'examples/**', '.work/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Build scripts run on Node.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  pureRoomImports,
  commandImports,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
