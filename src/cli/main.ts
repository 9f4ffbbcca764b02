#!/usr/bin/env node
/** The `imagewright` executable. */
import { ExitCode } from '../errors.js';
import { run } from './program.js';

run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`imagewright: internal error: ${String(err)}\n`);
    process.exitCode = ExitCode.failure;
  },
);
