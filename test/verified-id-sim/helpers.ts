import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startVerifiedIdSimulator, type RunningVerifiedIdSim, type VerifiedIdSimOptions } from '../../dev/verified-id-sim';

export const API_KEY = 'k3y-0f-this-request-7c1d2e';
export const TARGET_UPN = 'megan.bowen@contoso.com';
export const ISSUER = 'did:web:verifiedid.contoso.com';

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A stand-in for the app's callback route: records every POST and answers `status`. */
export interface CallbackReceiver {
  url: string;
  received: ReceivedCallback[];
  status: number;
  stop(): Promise<void>;
}

export async function startReceiver(): Promise<CallbackReceiver> {
  const receiver: CallbackReceiver = { url: '', received: [], status: 200, stop: async () => undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      receiver.received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/verification/callback`;
  receiver.stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** A presentation request shaped as the app sends it (issue 28): VerifiedEmployee, Face Check at 80, the UPN pinned. */
export function appRequest(callbackUrl: string, upn = TARGET_UPN): Record<string, unknown> {
  return {
    authority: 'did:web:verifier.contoso.com',
    includeQRCode: true,
    includeReceipt: false,
    registration: { clientName: 'Contoso MFA reset' },
    callback: { url: callbackUrl, state: 'state-5b0e1d7a', headers: { 'api-key': API_KEY } },
    requestedCredentials: [
      {
        type: 'VerifiedEmployee',
        purpose: 'Ticket INC0012345: MFA reset. Only continue if you asked for this.',
        acceptedIssuers: [ISSUER],
        configuration: { validation: { allowRevoked: false, validateLinkedDomain: true, faceCheck: { sourcePhotoClaimName: 'photo', matchConfidenceThreshold: 80 } } },
        constraints: [{ claimName: 'revocationId', values: [upn] }],
      },
    ],
  };
}

export async function createRequest(sim: RunningVerifiedIdSim, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sim.endpoint}/verifiableCredentials/createPresentationRequest`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A stand-in and a callback receiver for the file, both emptied after each test. */
export function useStandIn(options: VerifiedIdSimOptions = {}): { sim: RunningVerifiedIdSim; receiver: CallbackReceiver } {
  const handles = {} as { sim: RunningVerifiedIdSim; receiver: CallbackReceiver };
  beforeAll(async () => {
    handles.sim = await startVerifiedIdSimulator(options);
    handles.receiver = await startReceiver();
  });
  afterEach(() => {
    handles.sim.resetLog();
    handles.receiver.received.length = 0;
    handles.receiver.status = 200;
  });
  afterAll(async () => {
    await handles.sim?.stop();
    await handles.receiver?.stop();
  });
  return handles;
}

/** The headers a callback carried that the app's request named, or that a sender adds on purpose (not fetch's own). */
export function customHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const transport = new Set(['host', 'connection', 'content-length', 'content-type', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'sec-fetch-mode']);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !transport.has(name)));
}
