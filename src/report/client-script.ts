/**
 * The report page's script: client/app.ts bundled with its layout library. Run from source, it is
 * built here with esbuild; the CLI bundle replaces this module with the script built ahead of time
 * (scripts/bundle-config.mjs), so an installed imagewright needs neither esbuild nor these files.
 */
import { buildSync } from 'esbuild';
import { reportClientBuildOptions } from '../../scripts/report-client.mjs';

let built: string | undefined;

export function reportClientScript(): string {
  built ??= buildSync({ ...reportClientBuildOptions, write: false }).outputFiles[0]?.text ?? '';
  return built;
}
