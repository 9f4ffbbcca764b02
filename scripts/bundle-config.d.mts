import type { BuildOptions } from 'esbuild';
/** esbuild options for the CLI bundle; the caller adds `outfile`. */
export declare const bundleOptions: BuildOptions;
