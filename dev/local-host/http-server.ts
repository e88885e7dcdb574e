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
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const found = this.findRoute(url.pathname, req.method ?? 'GET');
      if (!found) return send(res, this.notFound(url.pathname, req.method ?? 'GET'));
      const { route, params } = found;

      if (!this.authorised(route.fn.options, req, url)) {
        return send(res, errorBody(401, 'unauthorized', 'this route needs the function key, as ?code= or the x-functions-key header'));
      }

      const body = await readBody(req);
      if (body === 'too large') return send(res, errorBody(413, 'payload_too_large', `the body is over ${MAX_BODY_BYTES} bytes`));

      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const query: Record<string, string> = {};
      url.searchParams.forEach((value, name) => (query[name] = value));

      const request = new HttpRequest({
        method: req.method ?? 'GET',
        url: url.toString(),
        headers,
        query,
        params,
        body: body.length > 0 ? { bytes: body } : undefined,
      });
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
      await send(res, result ?? {});
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

async function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return 'too large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
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
