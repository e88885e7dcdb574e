import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse, InvocationContext, type HttpFunctionOptions, type HttpResponseInit } from '@azure/functions';
import { compileRoute, type CompiledRoute } from './routes';
import type { HostLog } from './log';

export interface HttpFunction {
  name: string;
  options: HttpFunctionOptions;
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  /** When set, functions with authLevel `function` or `admin` need it as `?code=` or `x-functions-key`. */
  functionKey?: string;
  log: HostLog;
}

// The Functions host refuses request bodies over 100 MB; the functions set their own, smaller limits.
const MAX_BODY_BYTES = 100 * 1024 * 1024;
const ROUTE_PREFIX = 'api';

interface Route {
  fn: HttpFunction;
  route: CompiledRoute;
  methods: string[] | undefined;
}

/** The host could not listen (port taken, not allowed): a message for one line, no stack. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export class LocalHttpServer {
  private readonly server: Server;
  private readonly routes: Route[];
  private inFlight = 0;
  /** `host:port` values this server answers (set once it listens): the Host header must be one of them. */
  private served = new Set<string>();

  constructor(
    functions: HttpFunction[],
    private readonly options: HttpServerOptions,
  ) {
    this.routes = functions.map((fn) => ({
      fn,
      route: compileRoute(fn.options.route ?? fn.name),
      methods: fn.options.methods?.map((method) => method.toUpperCase()),
    }));
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) => {
        const port = this.options.port;
        if (error.code === 'EADDRINUSE') {
          reject(new ListenError(`port ${port} is in use (another npm start or func start?): stop that one, or choose another port, e.g. PORT=${port === 65535 ? 7072 : port + 1} npm start`));
        } else if (error.code === 'EACCES') {
          reject(new ListenError(`port ${port} needs privileges this user does not have: choose one above 1023, e.g. PORT=7071 npm start`));
        } else reject(error);
      });
      this.server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    const bound = this.options.host ?? '127.0.0.1';
    const names = [bound, address.address, 'localhost', '127.0.0.1', '[::1]'].map((name) => (name.includes(':') && !name.startsWith('[') ? `[${name}]` : name));
    // Only loopback names, and the address it was told to listen on: never whatever a client claims.
    const loopbackBound = ['127.0.0.1', 'localhost', '::1', '::', '0.0.0.0'].includes(bound) || bound.startsWith('127.');
    this.served = new Set((loopbackBound ? names : [bound]).map((name) => `${name.toLowerCase()}:${address.port}`));
    return `http://${address.address === '::' ? 'localhost' : address.address}:${address.port}`;
  }

  get activeRequests(): number {
    return this.inFlight;
  }

  /** Stops accepting connections and waits for requests already inside a handler. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight += 1;
    try {
      // A Host this server does not serve is a DNS-rebinding page or a misdirected request: the app would
      // otherwise take its origin for statusUrl and links. 421 as RFC 9110 section 15.5.20 has it.
      const host = (req.headers.host ?? '').toLowerCase();
      if (!this.served.has(host)) {
        res.setHeader('connection', 'close');
        return send(res, errorBody(421, 'host_not_served', `this local host answers only ${[...this.served].join(', ')}, not Host "${host.slice(0, 100)}"`));
      }
      const url = new URL(req.url ?? '/', `http://${host}`);
      const found = this.findRoute(url.pathname, req.method ?? 'GET');
      if (!found) return send(res, this.notFound(url.pathname, req.method ?? 'GET'));
      const { route, params } = found;

      if (!this.authorised(route.fn.options, req, url)) {
        return send(res, errorBody(401, 'unauthorized', 'this route needs the function key, as ?code= or the x-functions-key header'));
      }

      const declared = Number(req.headers['content-length'] ?? '0');
      if (!Number.isFinite(declared) || declared > MAX_BODY_BYTES) {
        res.setHeader('connection', 'close');
        return send(res, errorBody(413, 'payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));
      }

      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const query: Record<string, string> = {};
      url.searchParams.forEach((value, name) => (query[name] = value));

      // The body is streamed to the handler as the Functions host does with HTTP streams on
      // (functions/index.ts): nothing is read until the handler reads it, so a route refuses a body over
      // its own cap after that many bytes, not after the whole upload.
      const method = (req.method ?? 'GET').toUpperCase();
      const streamed = method !== 'GET' && method !== 'HEAD';
      const nativeRequest = new Request(url.toString(), {
        method,
        headers,
        ...(streamed ? { body: limited(req), duplex: 'half' } : {}),
      } as RequestInit);
      const request = new HttpRequest({ nativeRequest, params, query } as ConstructorParameters<typeof HttpRequest>[0]);
      const invocationId = randomUUID();
      const context = new InvocationContext({
        invocationId,
        functionName: route.fn.name,
        logHandler: this.options.log.forInvocation(route.fn.name, invocationId),
      });

      let result: HttpResponseInit | HttpResponse | void;
      try {
        result = await route.fn.options.handler(request, context);
      } catch (error) {
        // As in Azure: an unhandled error is a bare 500, and the detail goes to the log only.
        this.options.log.error(`${route.fn.name} failed: ${error instanceof Error ? error.stack : String(error)}`);
        return send(res, { status: 500 });
      }
      // A body the handler did not read to its end (refused over its cap): close rather than read the rest.
      if (streamed && !req.complete) res.setHeader('connection', 'close');
      await send(res, result ?? {});
      if (streamed && !req.complete) res.once('finish', () => req.destroy());
    } catch (error) {
      this.options.log.error(`local host: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    } finally {
      this.inFlight -= 1;
    }
  }

  /**
   * The Functions host answers an unknown route (or a method the route does not take) with a bare 404;
   * every answer of this app is documented as `{"error": {...}}`, so the local host says what exists.
   */
  private notFound(pathname: string, method: string): HttpResponseInit {
    const prefix = `/${ROUTE_PREFIX}`;
    const path = pathname.toLowerCase().startsWith(`${prefix}/`) ? pathname.slice(prefix.length) : undefined;
    const methods = path === undefined ? [] : this.routes.filter((route) => route.route.match(path)).flatMap((route) => route.methods ?? ['any method']);
    const shown = `${method.toUpperCase()} ${pathname.slice(0, 200)}`;
    return methods.length > 0
      ? errorBody(404, 'not_found', `${shown}: this route takes ${[...new Set(methods)].join(', ')}`)
      : errorBody(404, 'not_found', `no route ${shown}: the API is under /api (for example GET /api/health); see docs/api.md`);
  }

  private findRoute(pathname: string, method: string): { route: Route; params: Record<string, string> } | undefined {
    const prefix = `/${ROUTE_PREFIX}`;
    if (pathname !== prefix && !pathname.toLowerCase().startsWith(`${prefix}/`)) return undefined;
    const path = pathname.slice(prefix.length);
    for (const route of this.routes) {
      if (route.methods && !route.methods.includes(method.toUpperCase())) continue;
      const params = route.route.match(path);
      if (params) return { route, params };
    }
    return undefined;
  }

  private authorised(options: HttpFunctionOptions, req: IncomingMessage, url: URL): boolean {
    const key = this.options.functionKey;
    if (!key || (options.authLevel ?? 'function') === 'anonymous') return true;
    const presented = url.searchParams.get('code') ?? headerValue(req, 'x-functions-key');
    if (!presented) return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(key);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request body as a web stream read only as fast as the handler reads it (a chunk at a time), and
 * an error past the host's own limit (chunked bodies declare no length). Cancelling it stops reading;
 * the connection is closed after the answer (serve above).
 */
function limited(req: IncomingMessage): ReadableStream<Uint8Array> {
  let size = 0;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.pause();
        req.on('data', (chunk: Buffer) => {
          if (cancelled) return;
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            cancelled = true;
            req.pause();
            controller.error(new Error(`the body is over ${MAX_BODY_BYTES} bytes`));
            return;
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once('end', () => {
          if (!cancelled) controller.close();
        });
        req.once('error', (error) => {
          if (!cancelled) controller.error(error);
        });
      },
      pull() {
        req.resume();
      },
      cancel() {
        cancelled = true;
        req.pause();
      },
    },
    { highWaterMark: 1 },
  );
}

function errorBody(status: number, code: string, message: string): HttpResponseInit {
  return { status, jsonBody: { error: { code, message } } };
}

async function send(res: ServerResponse, result: HttpResponseInit | HttpResponse): Promise<void> {
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}
