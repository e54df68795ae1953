import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { createApp } from '../../apps/reclaim/src/bootstrap';
import { loadConfig } from '../../apps/reclaim/src/config/app-config';
import { createLogger } from '../../apps/reclaim/src/logging';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../apps/reclaim/src/runtime/runtime';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ANALYST_TOKEN = 'test-analyst-token-0123456789';

export interface Harness {
  readonly app: NestFastifyApplication;
  readonly runtime: Runtime;
  readonly db: TestDatabase;
  readonly baseUrl: string;
  /** Every log line the appliance wrote (with `captureLogs`), as JSON text. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** The real appliance on a fresh database, listening on a random loopback port. */
export async function startHarness(
  env: Record<string, string> = {},
  options: { captureLogs?: boolean; adapters?: RuntimeOptions['adapters']; clock?: RuntimeOptions['clock'] } = {},
): Promise<Harness> {
  const db = await createTestDatabase('reclaim_e2e');
  const dataDir = await mkdtemp(join(tmpdir(), 'reclaim-e2e-'));
  const config = loadConfig({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    ANALYST_TOKEN,
    RECLAIM_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: options.captureLogs ? 'debug' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    PORT: '0',
    // Test shops use made-up store domains: no store API calls unless a test points apiUrl at a stand-in.
    STORE_ADAPTERS: 'off',
    // The tests' store and provider stand-ins listen on 127.0.0.1: an explicit opt-in (R22).
    ALLOW_PRIVATE_STORE_URLS: 'true',
    ...env,
  });
  const logs: string[] = [];
  const log = createLogger(
    config.LOG_LEVEL,
    options.captureLogs ? { write: (line: string) => void logs.push(line) } : undefined,
  );
  const runtime = await createRuntime(config, {
    log,
    ...(options.adapters !== undefined ? { adapters: options.adapters } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  const app = await createApp(runtime, log);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    runtime,
    db,
    baseUrl: `http://127.0.0.1:${address.port}`,
    logs,
    async close() {
      await app.close();
      await runtime.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function hmacBase64(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** Longer than any one store call's retry budget (4 attempts × 10 s + waits), shorter than a test. */
const API_CALL_TIMEOUT_MS = 50_000;

export async function api(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
) {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    // A call that never answers fails naming itself, not as the test's timeout.
    signal: AbortSignal.timeout(API_CALL_TIMEOUT_MS),
  }).catch((err: unknown) => {
    throw new Error(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * Registers a test shop (201 expected) with working defaults: `platform` and `webhookSecret` given,
 * `shopDomain`/`apiUrl` from the platform's usual shape. Returns the admin API's answer body.
 */
export async function registerShop(
  h: Harness,
  shop: { platform: 'shopify' | 'bigcommerce' | 'woocommerce'; shopDomain: string; webhookSecret: string } & Record<
    string,
    string
  >,
): Promise<{ id: string; cartflowsUrl?: string } & Record<string, unknown>> {
  const apiUrl =
    shop.platform === 'shopify'
      ? `https://${shop.shopDomain}/admin/api/2025-01`
      : shop.platform === 'bigcommerce'
        ? `https://api.bigcommerce.com/stores/${shop.shopDomain}`
        : `https://${shop.shopDomain}/wp-json/wc/v3`;
  const res = await api(h, 'POST', '/api/shops', {
    apiUrl,
    apiToken: 'test-api-token-123',
    currency: 'USD',
    timezone: 'UTC',
    ...shop,
  });
  if (res.status !== 201) throw new Error(`shop not registered: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function post(h: Harness, path: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(`${h.baseUrl}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** Waits until `fn` returns a truthy value (polls; bounded). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
