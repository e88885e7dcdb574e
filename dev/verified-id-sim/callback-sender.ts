/** How long the stand-in waits for the app to answer a callback. */
const CALLBACK_TIMEOUT_MS = 10_000;

/**
 * POSTs one callback event as the service does: JSON, with exactly the headers the request named (the
 * api-key or Authorization) and no others of the stand-in's own. Redirects are not followed. Resolves
 * with the status the app answered, or 0 when it could not be reached; the header values never appear
 * in what this returns or throws.
 */
export async function postCallback(url: string, body: Record<string, unknown>, headers: Record<string, string>): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    // Drain the answer so the connection is released.
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  } catch {
    return 0;
  }
}
