import type { BuildOptions } from 'esbuild';
export declare const reportClientEntry: string;
export declare const reportClientBuildOptions: BuildOptions;
