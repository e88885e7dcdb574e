import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldAnswer {
  method: string;
  url: string;
  requestHeaders: IncomingHttpHeaders;
  /** What the upstream answered; the caller never got it. */
  status: number;
  responseHeaders: IncomingHttpHeaders;
}

export interface FaultProxy {
  url: string;
  /** Every request forwarded (or held), in the order received. */
  seen: { method: string; url: string }[];
  /** Answers the proxy kept back. */
  held: HeldAnswer[];
  /** From now on, keep back the answer to the next request that matches (it reaches the upstream). */
  holdNext(match: (method: string, url: string) => boolean): void;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of one upstream (the Graph simulator, or Azurite): it forwards every
 * request, and can keep back the answer to one, so the upstream acts but the caller never hears
 * back, as when a process dies between a Graph write and its record.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const held: HeldAnswer[] = [];
  const seen: { method: string; url: string }[] = [];
  let matcher: ((method: string, url: string) => boolean) | undefined;
  const open = new Set<import('node:net').Socket>();

  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const method = req.method ?? 'GET';
            const url = req.url ?? '/';
            if (matcher?.(method, url)) {
              matcher = undefined;
              held.push({ method, url, requestHeaders: req.headers, status: answer.statusCode ?? 0, responseHeaders: answer.headers });
              return; // never answered
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
          });
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      forward.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    held,
    holdNext(match) {
      matcher = match;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
