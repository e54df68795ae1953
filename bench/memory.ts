/**
 * Memory with open carts: RSS of the compiled appliance (`npm run build`, then `node dist/…`, as
 * the image runs it) while its engine turns BENCH_CARTS checkouts into open recoveries, and once it
 * holds them all (every cart's abandonment timer pending: ABANDON_AFTER=24h, so none closes).
 *
 *   npm run build && npm run bench:memory                 (DATABASE_URL, or an embedded PostgreSQL)
 *   BENCH_CARTS=100000 BENCH_CUSTOMERS=5000 npm run bench:memory
 *
 * The carts are written as the delivery processor leaves them (the cart decider's events, a sealed
 * contact each, appended through the store's group commit by 32 writers) while the appliance is
 * stopped; the appliance is then started with ROLES=engine and drains them through the engine's own
 * batch path (the partitioned recovery feed and recovery-events projector). RSS (VmRSS) is sampled
 * every 500 ms from /proc; the report gives the idle RSS, the peak while draining (VmHWM), the RSS
 * once every timer is in `engine.timers` (after a GC-friendly pause), and the growth per open cart
 * with its extrapolation to 1M. Goal: < 300 MB with 1M open carts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import type { SealedValue } from '@reclaim/domain';
import { PostgresEventStore, type NewEvent } from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import { checkoutEvents } from './support/checkout-events';
import { openScratchDatabase } from './support/scratch-database';

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist/apps/reclaim/src/main.js');
const CARTS = Number(process.env.BENCH_CARTS ?? 1_000_000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 5_000);
const SHOPS = 10;
const WRITERS = 32;
const ADMIN_TOKEN = 'memory-bench-admin-token-0123456789';
const MB = 1024 * 1024;
/** The Node options the image runs the appliance with (docker/Dockerfile), unless BENCH_NODE_OPTIONS says otherwise. */
const IMAGE_NODE_OPTIONS =
  process.env.BENCH_NODE_OPTIONS ??
  /NODE_OPTIONS=(\S+)/.exec(readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8'))?.[1] ??
  '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

class CompiledAppliance {
  private child?: ChildProcess;
  private output = '';
  readonly url: string;

  constructor(
    private readonly env: Record<string, string>,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['-r', 'tsconfig-paths/register', MAIN], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...this.env,
        TS_NODE_BASEURL: './dist',
        NODE_ENV: 'production',
        NODE_OPTIONS: IMAGE_NODE_OPTIONS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (b: Buffer) => (this.output = (this.output + b.toString()).slice(-4_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the appliance exited: ${this.output}`);
      // Listening is enough: /health reads every subscription's lag, slow while a backlog drains.
      const ok = await new Promise<boolean>((done) => {
        const socket = connect(Number(new URL(this.url).port), '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), done(true))).once('error', () => done(false));
      }).catch(() => false);
      if (ok) return;
      await sleep(250);
    }
    throw new Error(`the appliance did not start: ${this.output}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const db = await openScratchDatabase(55_437);
  const dataDir = await mkdtemp(join(tmpdir(), 'reclaim-memory-'));
  const masterKey = randomBytes(32);
  const env = (roles: string, port: number): Record<string, string> => ({
    DATABASE_URL: db.url,
    PORT: String(port),
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    RECLAIM_MASTER_KEY: masterKey.toString('base64'),
    ROLES: roles,
    LOG_LEVEL: 'warn',
    STORE_ADAPTERS: 'off',
    ABANDON_AFTER: '24h',
    HOLDOUT_PERCENT: '0',
    KAFKA_BROKERS: '',
  });
  const pool = new Pool({ connectionString: db.url, max: WRITERS + 2 });
  pool.on('error', () => undefined);
  let app: CompiledAppliance | undefined;
  try {
    // 1. The schema and the shops, through the appliance itself (HTTP only).
    const setupPort = await freePort();
    const setup = new CompiledAppliance(env('none', setupPort), setupPort);
    await setup.start();
    const shopIds: string[] = [];
    for (let i = 0; i < SHOPS; i++) {
      const res = await fetch(`${setup.url}/api/shops`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({
          registerWebhooks: false,
          platform: 'shopify',
          shopDomain: `memory-${i}.myshopify.com`,
          webhookSecret: `memory-secret-${i}-0123456789`,
          apiUrl: `https://memory-${i}.myshopify.com/admin/api/2025-10/graphql.json`,
          apiToken: `shpat_memory_${i}`,
          currency: 'EUR',
          timezone: 'UTC',
        }),
      });
      if (res.status !== 201) throw new Error(`shop ${i}: ${res.status} ${await res.text()}`);
      shopIds.push(((await res.json()) as { id: string }).id);
    }
    await setup.stop();

    // 2. The open carts, as the delivery processor records them.
    const store = new PostgresEventStore({ pool });
    const vault = new PersonalDataVault(pool, masterKey);
    const customers: { customerKey: string; contact: SealedValue; email: string }[] = [];
    for (let i = 0; i < CUSTOMERS; i++) {
      const shopId = shopIds[i % SHOPS];
      const email = `shopper${i}@memory.example`;
      const contact = { email, firstName: 'Zoë' };
      const customerKey = vault.subjectFor(shopId, contact) as string;
      customers.push({ customerKey, email, contact: await vault.seal(shopId, customerKey, contact) });
    }
    const checkout = (n: number): { streamId: string; events: NewEvent[] } =>
      checkoutEvents(shopIds[(n % CUSTOMERS) % SHOPS], `m${n}-${randomUUID()}`, customers[n % CUSTOMERS]);

    const writeStarted = Date.now();
    let next = 0;
    let written = 0;
    const writer = async () => {
      while (next < CARTS) {
        const c = checkout(next++);
        await store.append(c.streamId, c.events, 'no_stream');
        if (++written % 50_000 === 0) console.log(`  ${fmt(written)} carts written`);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    await store.close();
    const writeS = (Date.now() - writeStarted) / 1000;
    console.log(`${fmt(CARTS)} carts written in ${writeS.toFixed(0)} s (${fmt(CARTS / writeS)}/s)`);

    // 3. The compiled appliance with the engine role drains them; RSS sampled throughout.
    const port = await freePort();
    app = new CompiledAppliance(env('engine', port), port);
    const started = Date.now();
    await app.start();
    const idle = memoryOf(app.pid);
    let maxRss = idle.rss;
    let timers = 0;
    // The baseline for the growth per cart: once a tenth is held (code loaded, JIT warm, pools full).
    let warm: { rss: number; carts: number } | undefined;
    let lastLog = 0;
    while (timers < CARTS) {
      await sleep(500);
      const m = memoryOf(app.pid);
      maxRss = Math.max(maxRss, m.rss);
      timers = (
        await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM engine.timers WHERE purpose = 'abandonment'`)
      ).rows[0].n;
      if (warm === undefined && timers >= CARTS / 10) warm = { rss: m.rss, carts: timers };
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        const asked = Date.now();
        const health = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(30_000) })
          .then((r) => `${r.status} in ${Date.now() - asked} ms`)
          .catch((e: Error) => e.name);
        console.log(`  /health: ${health}`);
        console.log(
          `  ${fmt(timers)} open carts with a timer; RSS ${fmt(m.rss / MB)} MB (peak ${fmt(m.peak / MB)} MB)`,
        );
      }
      if (Date.now() - started > 60 * 60_000) throw new Error('the engine did not drain within an hour');
    }
    const drainS = (Date.now() - started) / 1000;
    // Holding them all: the lowest RSS over 10 s (what stays between collections).
    let held = memoryOf(app.pid);
    for (let i = 0; i < 20; i++) {
      await sleep(500);
      const m = memoryOf(app.pid);
      if (m.rss < held.rss) held = m;
    }
    maxRss = Math.max(maxRss, held.rss);
    const base = warm ?? { rss: idle.rss, carts: 0 };
    const growth = (held.rss - base.rss) / Math.max(1, CARTS - base.carts);
    // A negative growth (RSS lower once drained than at a tenth) means none measurable: 0 for the extrapolation.
    const perCart = Math.max(0, growth);
    const oneMillion = held.rss + perCart * Math.max(0, 1_000_000 - CARTS);
    console.log(
      `\nmemory with open carts (compiled appliance, ROLES=engine, NODE_OPTIONS=${IMAGE_NODE_OPTIONS || 'none'})`,
    );
    console.log(`  open carts:           ${fmt(CARTS)} (${fmt(CUSTOMERS)} customers, ${SHOPS} shops)`);
    console.log(`  drained in:           ${drainS.toFixed(0)} s (${fmt(CARTS / drainS)} carts/s, start included)`);
    console.log(`  RSS idle:             ${fmt(idle.rss / MB)} MB`);
    console.log(`  RSS peak (VmHWM):     ${fmt(held.peak / MB)} MB`);
    console.log(`  RSS holding them:     ${fmt(held.rss / MB)} MB (lowest over 10 s)`);
    console.log(`  growth per open cart: ${growth.toFixed(1)} bytes (from a tenth held to all held)`);
    if (CARTS < 1_000_000)
      console.log(`  extrapolated to 1M:   ${fmt(oneMillion / MB)} MB held (linear in the growth per cart)`);
    console.log(
      `  goal < 300 MB:        ${(CARTS >= 1_000_000 ? held.peak : Math.max(held.peak, oneMillion)) < 300 * MB ? 'met' : 'NOT met'}`,
    );
  } finally {
    await app?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
