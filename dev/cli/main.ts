import { CommanderError } from 'commander';
import { ApiError } from './client';
import { buildProgram } from './program';

/** Entry of the `entra-mfa-reset` command (bin.js loads it through tsx). */
buildProgram({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  tty: process.stderr.isTTY === true,
})
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${text}\n`);
    process.exitCode = error instanceof ApiError && error.status === 401 ? 3 : 2;
  });
