import { Agent, request, type Dispatcher } from 'undici';
import { checkOutboundUrl, guardedLookup } from './outbound-guard';

/** The default connection pool: its sockets resolve through the outbound guard (R22). */
let guardedAgent: Agent | undefined;
function defaultDispatcher(): Agent {
  guardedAgent ??= new Agent({ connect: { lookup: guardedLookup } });
  return guardedAgent;
}

/** Connect options for a caller's own pool: resolve through the outbound guard (R22). */
export const GUARDED_CONNECT = { lookup: guardedLookup } as const;

/**
 * One HTTP exchange with undici: a per-attempt timeout (connect, headers, body, and the whole
 * exchange), the body read as text, header names lower-cased. No retries here: see `withRetries`.
 */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export interface TransportOptions {
  readonly timeoutMs: number;
  /** A connection pool of the caller's own (keep-alive, connect timeout); undici's global one otherwise. */
  readonly dispatcher?: Dispatcher;
}

export async function sendHttp(req: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  // R22: the URL and every address its host resolves to, checked before anything is sent.
  await checkOutboundUrl(req.url);
  const res = await request(req.url, {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    signal: AbortSignal.timeout(options.timeoutMs),
    dispatcher: options.dispatcher ?? defaultDispatcher(),
  });
  const text = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (typeof v === 'string') headers[k.toLowerCase()] = v;
    else if (Array.isArray(v)) headers[k.toLowerCase()] = v.join(', ');
  }
  return { status: res.statusCode, headers, text };
}

/** Error codes that mean the request never left: safe to send again, whatever it was. */
const NOT_SENT_CODES = new Set([
  'EREFUSED_OUTBOUND',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The error's code (`ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`…), looked for through its causes. */
export function errorCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the request certainly did not reach the server (refused, unknown host, connect timeout). */
export function neverSent(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code !== undefined && NOT_SENT_CODES.has(code);
}
