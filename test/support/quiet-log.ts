import type { HostLog } from '../../dev/local-host/log';

/** A host log that keeps its lines for assertions instead of printing them. */
export function recordingLog(): HostLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(message),
    error: (message) => lines.push(message),
    forInvocation: (name) => (level, ...args) => lines.push(`[${name}] ${level}: ${args.map(String).join(' ')}`),
  };
}
