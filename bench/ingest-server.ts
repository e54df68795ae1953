/**
 * The server under test for bench:ingest, in its own process (the load generator runs in the
 * parent, so neither steals the other's event loop). Mode `naive`: node:http + one INSERT per
 * request. Mode `reclaim`: the appliance's real HTTP stack with background roles off; `reclaim-all`:
 * with every role on (ingest, engine, projector, relay).
 * Prints `READY <port>` when listening; stops on SIGTERM.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { createApp } from '../apps/reclaim/src/bootstrap';
import { loadConfig } from '../apps/reclaim/src/config/app-config';
import { createRuntime } from '../apps/reclaim/src/runtime/runtime';

import { BENCH_DOMAIN, BENCH_SECRET } from './ingest-shared';

async function naive(dbUrl: string): Promise<void> {
  const pool = new Pool({ connectionString: dbUrl, max: 24 });
  pool.on('error', () => undefined);
  await pool.query(
    'CREATE TABLE IF NOT EXISTS naive_deliveries (id bigserial PRIMARY KEY, delivery_id text, body text, received_at timestamptz default now())',
  );
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      pool
        .query('INSERT INTO naive_deliveries (delivery_id, body) VALUES ($1, $2)', [
          req.headers['x-shopify-webhook-id'],
          Buffer.concat(chunks).toString('utf8'),
        ])
        .then(() => res.writeHead(200).end('ok'))
        .catch(() => res.writeHead(503).end());
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`READY ${(server.address() as { port: number }).port}`));
  process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
}

async function reclaim(dbUrl: string): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    DATA_DIR: await mkdtemp(join(tmpdir(), 'reclaim-bench-')),
    ADMIN_TOKEN: 'bench-admin-token',
    // One key for every server of a run: they share the database (and its wrapped keys).
    RECLAIM_MASTER_KEY: process.env.BENCH_MASTER_KEY ?? randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    // `reclaim` serves HTTP only; `reclaim-all` also runs every background role (engine, projector…).
    ROLES: process.argv[2] === 'reclaim-all' ? 'ingest,engine,projector,relay' : 'none',
  });
  const log = pino({ level: 'silent' });
  const runtime = await createRuntime(config, { log });
  if (!(await runtime.shops.findByDomain('shopify', BENCH_DOMAIN))) {
    // Several processes (BENCH_INGEST_PROCESSES) race to register it: one wins, the others find it.
    await runtime.shops
      .register({
        platform: 'shopify',
        shopDomain: BENCH_DOMAIN,
        webhookSecret: BENCH_SECRET,
        apiUrl: `https://${BENCH_DOMAIN}/admin/api/2025-01`,
        apiToken: 'x',
        currency: 'USD',
        timezone: 'UTC',
      })
      .catch(async (err: unknown) => {
        if (!(await runtime.shops.findByDomain('shopify', BENCH_DOMAIN))) throw err;
      });
  }
  const app = await createApp(runtime, log);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  if (cluster.isWorker) process.send?.({ ready: port });
  else console.log(`READY ${port}`);
  process.once(
    'SIGTERM',
    () =>
      void app
        .close()
        .then(() => runtime.close())
        .then(() => process.exit(0)),
  );
}

/**
 * BENCH_INGEST_PROCESSES > 1 (`reclaim` only): that many server processes share the port
 * (node:cluster), as several `ingest` processes of the appliance would behind one address. The
 * primary answers nothing itself; READY is printed once every worker listens.
 */
function primary(count: number): void {
  let ready = 0;
  let port = 0;
  for (let i = 0; i < count; i++) {
    const worker = cluster.fork();
    worker.on('message', (m: { ready?: number }) => {
      if (m.ready === undefined) return;
      port = m.ready;
      if (++ready === count) console.log(`READY ${port}`);
    });
  }
  cluster.on('exit', (_w, code) => {
    if (code !== 0) process.exit(1);
  });
  process.once('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    let left = Object.keys(cluster.workers ?? {}).length;
    cluster.on('exit', () => {
      if (--left === 0) process.exit(0);
    });
  });
}

const [mode, dbUrl] = [process.argv[2], process.env.DATABASE_URL];
if (mode !== 'naive' && mode !== 'reclaim' && mode !== 'reclaim-all')
  throw new Error('usage: ingest-server.ts naive|reclaim|reclaim-all');
if (!dbUrl) throw new Error('DATABASE_URL is required');
const processes = mode === 'reclaim' ? Number(process.env.BENCH_INGEST_PROCESSES ?? 1) : 1;
if (processes > 1 && cluster.isPrimary) primary(processes);
else
  (mode === 'naive' ? naive(dbUrl) : reclaim(dbUrl)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
