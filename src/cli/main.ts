#!/usr/bin/env node
/** The `imagewright` executable. */
import { ExitCode } from '../errors.js';
import { run } from './program.js';

// `imagewright plan | head` closes the pipe early: that ends the output, it is not an internal error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? ExitCode.ok);
  });
}

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`imagewright: internal error: ${String(err)}\n`);
    process.exitCode = ExitCode.failure;
  },
);
