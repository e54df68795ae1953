/**
 * Shared plumbing of the provider stand-ins: request records, injected faults and small HTTP
 * helpers. Nothing here knows a provider.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ProviderName = 'klaviyo' | 'twilio' | 'gorgias' | 'zendesk' | 'smtp';
export const PROVIDER_NAMES: readonly ProviderName[] = ['klaviyo', 'twilio', 'gorgias', 'zendesk', 'smtp'];

export interface ReceivedRequest {
  readonly provider: ProviderName;
  readonly method: string;
  /** Path relative to the provider's base URL, without the query. */
  readonly path: string;
  readonly query: Record<string, string>;
  /** Lower-case names; `authorization` is replaced by `<present>`. */
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly status: number;
  readonly at: string;
}

/**
 * A failure injected on a route: `status` answers it (429/5xx, with `retryAfter` seconds or date);
 * `hang` never answers and processes nothing; `process-then-hang` processes the request (it takes
 * effect) and never answers, i.e. a timeout after the provider acted; `latency` delays a normal answer.
 */
export interface Fault {
  readonly provider: ProviderName;
  readonly method?: string;
  /** Matches when the provider-relative path contains this string (SMTP: "RCPT" or "DATA"). */
  readonly path?: string;
  readonly kind: 'status' | 'hang' | 'process-then-hang' | 'latency';
  readonly status?: number;
  readonly retryAfter?: string;
  readonly delayMs?: number;
  /** How many matching requests it affects; default 1, `0` = until cleared. */
  readonly times?: number;
}

export class FaultBook {
  private faults: { fault: Fault; left: number }[] = [];

  add(fault: Fault): void {
    if (!PROVIDER_NAMES.includes(fault.provider)) throw new Error(`unknown provider ${String(fault.provider)}`);
    if (!['status', 'hang', 'process-then-hang', 'latency'].includes(fault.kind)) throw new Error('unknown fault kind');
    if (fault.kind === 'status' && (typeof fault.status !== 'number' || fault.status < 400 || fault.status > 599)) {
      throw new Error('a status fault needs a 4xx/5xx status');
    }
    this.faults.push({ fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => f.fault);
  }

  /** The first matching fault, consumed once. */
  take(provider: ProviderName, method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex(
      ({ fault }) =>
        fault.provider === provider &&
        (fault.method === undefined || fault.method.toUpperCase() === method.toUpperCase()) &&
        (fault.path === undefined || path.includes(fault.path)),
    );
    if (i < 0) return undefined;
    const entry = this.faults[i]!;
    if (entry.fault.times !== 0) {
      entry.left -= 1;
      if (entry.left <= 0) this.faults.splice(i, 1);
    }
    return entry.fault;
  }
}

export async function readBody(req: IncomingMessage, limit = 5 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export interface StandInResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are; `undefined` = empty body. */
  readonly body?: unknown;
  readonly contentType?: string;
}

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly raw: Buffer;
}

export interface StandIn {
  readonly name: ProviderName;
  handle(req: StandInRequest): Promise<StandInResponse> | StandInResponse;
  /** The provider's documented error body for an injected status. */
  errorBody(status: number): unknown;
  /** The request body as recorded (parsed). */
  recordBody(req: StandInRequest): unknown;
}

export function writeResponse(res: ServerResponse, r: StandInResponse): void {
  const headers: Record<string, string> = { ...r.headers };
  let payload: string | undefined;
  if (r.body === undefined) payload = undefined;
  else if (typeof r.body === 'string') payload = r.body;
  else {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= r.contentType ?? 'application/json; charset=utf-8';
  }
  if (payload !== undefined && r.contentType !== undefined) headers['content-type'] = r.contentType;
  res.writeHead(r.status, headers);
  res.end(payload);
}

export function header(req: StandInRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function mediaType(req: StandInRequest): string {
  return (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `Basic` credentials as [user, password], or undefined. */
export function basicCredentials(req: StandInRequest): [string, string] | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(header(req, 'authorization') ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : [decoded.slice(0, i), decoded.slice(i + 1)];
}

export function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const E164 = /^\+[1-9]\d{6,14}$/;
export const EMAIL = /^[^\s@"<>]+@[^\s@"<>]+\.[^\s@"<>]+$/u;

export function randomHex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
