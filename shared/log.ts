/**
 * Structured log lines: a message plus fields (request id, ticket id, status...). Triggers adapt it
 * to the invocation's logger; shared/ never sees Azure Functions types. Never put a secret, a token
 * or a full phone number in the fields.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogSink {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** One JSON object per line, so Application Insights and grep both read the fields. */
export function structuredLogger(sink: LogSink, base: LogFields = {}): Logger {
  const line = (message: string, fields?: LogFields) => JSON.stringify({ message, ...base, ...fields });
  return {
    info: (message, fields) => sink.log(line(message, fields)),
    warn: (message, fields) => sink.warn(line(message, fields)),
    error: (message, fields) => sink.error(line(message, fields)),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const said = new WeakMap<object, Set<string>>();

/**
 * True the first time `key` is asked about for this owner (the loaded settings, say), false after, so a
 * standing condition such as local demo mode is logged once per start rather than on every request.
 * A new owner (settings loaded again) says it again.
 */
export function firstTime(owner: object, key: string): boolean {
  let keys = said.get(owner);
  if (!keys) said.set(owner, (keys = new Set()));
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}
