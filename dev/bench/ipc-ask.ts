import type { ChildProcess } from 'node:child_process';

/**
 * Requests to a bench child process over IPC, each answered by a reply with the same id; a reply with
 * `error` rejects, and the child's exit rejects whatever is still waiting. `name` says whose in errors.
 */
export function askerFor<Request, Reply extends { id: number; error?: string }>(child: ChildProcess, name: string): (request: Request) => Promise<Reply> {
  let next = 0;
  const waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  child.on('message', (message: Reply) => {
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (!pending) return;
    if (message.error) pending.reject(new Error(`${name}: ${message.error}`));
    else pending.resolve(message);
  });
  child.on('exit', (code) => {
    for (const pending of waiting.values()) pending.reject(new Error(`${name} exited (${code})`));
    waiting.clear();
  });
  return (request) =>
    new Promise<Reply>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
}
