import type { HostLog } from '../../dev/local-host/log';

/** A host log that keeps its lines for assertions instead of printing them, and which function ran when. */
export function recordingLog(): HostLog & { lines: string[]; invocations: { name: string; at: number }[] } {
  const lines: string[] = [];
  const invocations: { name: string; at: number }[] = [];
  return {
    lines,
    invocations,
    info: (message) => lines.push(message),
    error: (message) => lines.push(message),
    forInvocation: (name) => {
      // The host asks for one handler per invocation.
      invocations.push({ name, at: Date.now() });
      return (level, ...args) => lines.push(`[${name}] ${level}: ${args.map(String).join(' ')}`);
    },
  };
}
