import type { LogHandler } from '@azure/functions';

/** The local host's console output: one line per entry, prefixed with the function name like `func start`. */
export interface HostLog {
  info(message: string): void;
  error(message: string): void;
  forInvocation(functionName: string, invocationId: string): LogHandler;
}

export function consoleLog(options: { quiet?: boolean } = {}): HostLog {
  const write = (line: string) => {
    if (!options.quiet) process.stdout.write(`${line}\n`);
  };
  return {
    info: (message) => write(`[host] ${message}`),
    error: (message) => process.stderr.write(`[host] ${message}\n`),
    forInvocation: (functionName) => (level, ...args) => {
      if (level === 'trace' || level === 'debug') return;
      const text = args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ');
      if (level === 'error' || level === 'warning') process.stderr.write(`[${functionName}] ${level}: ${text}\n`);
      else write(`[${functionName}] ${text}`);
    },
  };
}
