// Builds the CLI into one ES module, dist/cli/main.js, dependencies included: a command starts by
// loading one file instead of a few hundred, which is most of a no-change run's fixed cost.
// Type-checking is separate (`npm run typecheck`); esbuild only strips the types.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions } from './bundle-config.mjs';

rmSync('dist', { recursive: true, force: true });
await build({ ...bundleOptions, outfile: 'dist/cli/main.js', sourcemap: true });
