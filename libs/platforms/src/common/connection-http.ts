import { StoreConnectionError } from '@reclaim/ports';
import { parseJsonLossless } from './lossless-json';
import type { StoreHttpClient, StoreHttpRequest, StoreHttpResponse } from './store-http';

/** Connecting a shop is interactive: a short retry budget, the merchant is waiting for the answer. */
export const CONNECTION_HTTP_OPTIONS = { timeoutMs: 10_000, maxAttempts: 2, maxTotalDelayMs: 2_000 } as const;

/**
 * Sends through the store HTTP client; a store that cannot be reached (refused, unknown host,
 * timeouts, 5xx/429 beyond the budget) becomes `StoreConnectionError('unreachable')`, and 401
 * `unauthorised`. Other statuses are the caller's to read.
 */
export async function sendToStore(
  http: StoreHttpClient,
  req: StoreHttpRequest,
  storeName: string,
  /** Whether an answer means "these credentials are refused" (default: any 401). */
  refused: (res: StoreHttpResponse) => boolean = (res) => res.status === 401,
): Promise<StoreHttpResponse> {
  let res: StoreHttpResponse;
  try {
    res = await http.send(req);
  } catch (err) {
    const reason = err instanceof Error ? err.message : 'no answer';
    throw new StoreConnectionError('unreachable', `${storeName} API not reachable at apiUrl (${reason})`);
  }
  if (refused(res)) {
    throw new StoreConnectionError('unauthorised', `${storeName} refused the apiToken (401): not authorised`);
  }
  return res;
}

/** The JSON body, or `bad-response` naming the operation. */
export function jsonOf(res: StoreHttpResponse, what: string): unknown {
  if (res.text === '') return undefined;
  try {
    return parseJsonLossless(res.text);
  } catch {
    throw new StoreConnectionError('bad-response', `${what}: the answer is not JSON (${res.status})`);
  }
}

/** A short summary of an error body for a message (store error bodies carry no credentials). */
export function errorSummary(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}
