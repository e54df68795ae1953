import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'lossless-json';

export type StorePlatform = 'shopify' | 'bigcommerce' | 'woocommerce';

/** A request as a stand-in saw it. Credentials are never kept: only whether they were accepted. */
export interface ReceivedRequest {
  readonly platform: StorePlatform;
  readonly method: string;
  /** Path inside the platform's API (`/v2/coupons`, `/graphql.json`, `/products/22`). */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** GraphQL operation name (Shopify). */
  readonly operation?: string;
  readonly authorized: boolean;
  readonly status: number;
  readonly at: string;
}

export interface ReceivedFilter {
  readonly platform?: StorePlatform;
  readonly method?: string;
  readonly path?: string;
  readonly operation?: string;
}

/**
 * A failure to inject, matched by platform, method, path prefix and (Shopify) operation name.
 * `status`: answer that status (with `Retry-After` / headers / body) instead of the real answer;
 * `hang`: never answer (`when: 'after'` first applies the request, as a store that committed and
 * then lost the connection); `latency`: answer after `latencyMs`; `reset`: destroy the socket.
 */
export interface StoreFault {
  readonly platform?: StorePlatform;
  readonly method?: string;
  readonly path?: string;
  readonly operation?: string;
  readonly kind: 'status' | 'hang' | 'latency' | 'reset';
  readonly status?: number;
  readonly retryAfter?: string | number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly latencyMs?: number;
  readonly when?: 'before' | 'after';
  /** How many matching requests it hits (default 1; 0 = until cleared). */
  readonly times?: number;
  /** Matching requests let through before it hits (default 0). */
  readonly skip?: number;
}

export interface StoreReply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised with lossless-json (LosslessNumber ids stay exact); undefined = empty body. */
  body?: unknown;
}

export interface StoreCall {
  readonly platform: StorePlatform;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly rawBody: string;
  /** Parsed JSON body, `undefined` when empty, `SyntaxError` instance when malformed. */
  readonly json: unknown;
  operation?: string;
  authorized: boolean;
}

const SECRET_HEADERS = new Set(['authorization', 'x-auth-token', 'x-shopify-access-token', 'cookie']);

export function redactHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k) ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function plainHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function readBody(req: IncomingMessage, limit = 1_048_576): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function send(res: ServerResponse, reply: StoreReply): void {
  const text = reply.body === undefined ? '' : (stringify(reply.body) ?? '');
  res.writeHead(reply.status, {
    ...(text !== '' ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...(reply.headers ?? {}),
  });
  res.end(text);
}

export class FaultBook {
  private faults: { fault: StoreFault; left: number; skip: number }[] = [];

  add(fault: StoreFault): void {
    if (!['status', 'hang', 'latency', 'reset'].includes(fault.kind))
      throw new Error(`unknown fault kind ${fault.kind}`);
    if (fault.kind === 'status' && (fault.status === undefined || fault.status < 100 || fault.status > 599)) {
      throw new Error('a status fault needs a status between 100 and 599');
    }
    this.faults.push({ fault, left: fault.times ?? 1, skip: fault.skip ?? 0 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault matching the call, consumed once. */
  take(call: Pick<StoreCall, 'platform' | 'method' | 'path' | 'operation'>): StoreFault | undefined {
    const hit = this.faults.find(
      ({ fault: f }) =>
        (f.platform === undefined || f.platform === call.platform) &&
        (f.method === undefined || f.method.toUpperCase() === call.method) &&
        (f.path === undefined || call.path.startsWith(f.path)) &&
        (f.operation === undefined || f.operation === call.operation),
    );
    if (hit === undefined) return undefined;
    if (hit.skip > 0) {
      hit.skip -= 1;
      return undefined;
    }
    if (hit.fault.times !== 0) {
      hit.left -= 1;
      if (hit.left <= 0) this.faults = this.faults.filter((f) => f !== hit);
    }
    return hit.fault;
  }
}

export function faultReply(f: StoreFault): StoreReply {
  const headers: Record<string, string> = { ...(f.headers ?? {}) };
  if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
  return { status: f.status ?? 500, headers, body: f.body ?? { errors: 'sandbox fault' } };
}

export function matches(r: ReceivedRequest, f: ReceivedFilter): boolean {
  return (
    (f.platform === undefined || r.platform === f.platform) &&
    (f.method === undefined || r.method === f.method.toUpperCase()) &&
    (f.path === undefined || r.path.startsWith(f.path)) &&
    (f.operation === undefined || r.operation === f.operation)
  );
}
