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

/** A JSON REST call to a store (BigCommerce, WooCommerce): JSON in and out, writes never resent blindly. */
export function sendJsonToStore(
  http: StoreHttpClient,
  storeName: string,
  req: {
    readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    readonly url: string;
    /** The store's credential header(s). */
    readonly auth: Readonly<Record<string, string>>;
    readonly body?: unknown;
  },
  refused?: (res: StoreHttpResponse) => boolean,
): Promise<StoreHttpResponse> {
  const { method, url, auth, body } = req;
  return sendToStore(
    http,
    {
      method,
      url,
      headers: {
        accept: 'application/json',
        ...auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      idempotent: method !== 'POST',
      what: `${storeName} ${method} ${new URL(url).pathname}`,
    },
    storeName,
    refused,
  );
}

/**
 * The JSON of an expected answer; otherwise a `StoreConnectionError` naming the operation:
 * `missing-scope` when `missingScope` says so (403 by default), `refused` for the validation
 * statuses given, `bad-response` for the rest.
 */
export function expectFromStore(
  res: StoreHttpResponse,
  ok: readonly number[],
  what: string,
  rules: {
    readonly refusedStatuses: readonly number[];
    readonly missingScope?: (res: StoreHttpResponse) => boolean;
  },
): unknown {
  if (ok.includes(res.status)) return jsonOf(res, what);
  if (res.status === 403 || rules.missingScope?.(res) === true) {
    throw new StoreConnectionError('missing-scope', `${what}: missing scope (${res.status}) ${errorSummary(res.text)}`);
  }
  throw new StoreConnectionError(
    rules.refusedStatuses.includes(res.status) ? 'refused' : 'bad-response',
    `${what}: ${res.status} ${errorSummary(res.text)}`,
  );
}
