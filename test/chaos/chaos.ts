/**
 * Chaos run (RELIABILITY.md R1, R6 and the invariants): replays a seeded recording of signed
 * deliveries (10 % duplicates, 5 % out of order, a few poison ones) against the real appliance,
 * started as a child process, while it SIGKILLs and restarts it and takes its PostgreSQL away
 * (the embedded one is stopped and started; a given server is cut off behind a TCP proxy). Then it
 * checks the invariants from the database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@reclaim/database';
import { smtpMessageId } from '@reclaim/providers';
import { FaultBook, SmtpSink, type SinkMessage } from '../../apps/sandbox/src/providers';
import { Random } from '../../apps/sandbox/src/simulator/random';
import {
  bigCommerceDelivery,
  shopifyDelivery,
  type Delivery,
  type WebhookShop,
} from '../../apps/sandbox/src/simulator/webhooks';

export interface ChaosOptions {
  readonly deliveries: number;
  /** SIGKILLs of the appliance during the replay (each followed by a restart). */
  readonly kills: number;
  /** PostgreSQL outages during the replay. Default 1. */
  readonly outages?: number;
  readonly seed: number;
  /** A PostgreSQL server to create the run's database on; else an embedded PostgreSQL is started. */
  readonly databaseUrl?: string;
  /** Keep the run's database (default: dropped when every invariant holds). */
  readonly keep?: boolean;
  readonly onProgress?: (done: number, total: number, note: string) => void;
  readonly log?: (line: string) => void;
}

export interface InvariantResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ChaosReport {
  readonly seed: number;
  readonly deliveries: number;
  readonly sent: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly poison: number;
  readonly kills: number;
  readonly outages: number;
  readonly retriesBySender: number;
  readonly rejected: number;
  /** `recovery.message-sent` events recorded by the appliance. */
  readonly messagesSent: number;
  /** Messages the stand-in SMTP server accepted (the outside effect). */
  readonly messagesDelivered: number;
  readonly recoveries: number;
  readonly stepsDue: number;
  /** Carts purchased / customers who opted out (recorded), and of those recoveries, how many had a message first. */
  readonly purchases: number;
  readonly optOuts: number;
  readonly purchasesAfterMessage: number;
  readonly optOutsAfterMessage: number;
  readonly parked: number;
  /** Sends whose outcome was lost to a kill (R2): recorded as unknown and reconciled, never resent blindly. */
  readonly unknownOutcomes: number;
  readonly seconds: number;
  readonly invariants: readonly InvariantResult[];
  readonly ok: boolean;
}

const ROOT = resolve(__dirname, '..', '..');
const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
const SHOPIFY_SHOPS = 3;
const POISON_HASH = 'chaospoison';
const MAIL_DOMAIN = 'chaos.example';
const SMTP_USER = 'chaos';
const SMTP_PASSWORD = 'chaos-smtp-password';

/** What each chaos shop runs with: live, no holdout, no quiet hours, a postal address (R25). */
/** The events that say a message went out. */
const SENT_EVENT = `(type = 'recovery.message-sent' OR (type = 'recovery.late-outcome' AND data->>'outcome' = 'sent'))`;

const CHAOS_SETTINGS = {
  mode: 'live',
  holdoutPercent: 0,
  storeName: 'Chaos Lamps',
  postalAddress: 'Chaos Lamps, 1 Fault Street, Springfield 12345, USA',
  quietHours: { email: null },
} as const;

interface Recorded {
  readonly delivery: Delivery;
  /** Dedupe id the appliance keys on (the webhook id). */
  readonly id: string;
  readonly poison: boolean;
}

// ------------------------------------------------------------------ the recording

interface Journey {
  readonly shop: WebhookShop;
  readonly n: number;
  readonly token: string;
  readonly email: string;
  readonly customerId: number;
}

/** A seeded recording of signed deliveries: checkouts, updates, orders, opt-outs and a few poison ones. */
export function record(
  options: Pick<ChaosOptions, 'deliveries' | 'seed'>,
  shops: readonly WebhookShop[],
  poisonShop: WebhookShop,
): { list: Recorded[]; duplicates: number; outOfOrder: number; poison: number } {
  const random = new Random(options.seed);
  const unique: Recorded[] = [];
  const poisonCount = Math.max(1, Math.round(options.deliveries * 0.005));
  const uniqueTarget = Math.max(poisonCount + 1, Math.round(options.deliveries / 1.1));
  const add = (delivery: Delivery, poison = false) =>
    unique.push({
      delivery,
      poison,
      id: delivery.headers['x-shopify-webhook-id'] ?? delivery.headers['webhook-id'] ?? '',
    });
  // Half the orders and opt-outs arrive well after their checkout (up to a few hundred deliveries
  // later): after the abandonment delay, often after a first message, so "none after purchase or
  // opt-out" is tested against recoveries that were sending.
  const late: { at: number; r: Recorded }[] = [];
  const addLate = (delivery: Delivery) => {
    if (!random.chance(0.5)) return add(delivery);
    late.push({
      at: unique.length + random.int(20, 400),
      r: { delivery, poison: false, id: delivery.headers['x-shopify-webhook-id'] ?? '' },
    });
  };
  let n = 0;
  while (unique.length + late.length < uniqueTarget - poisonCount) {
    n++;
    const shop = random.pick(shops);
    const j: Journey = {
      shop,
      n,
      token: random.hex(32),
      email: `shopper${n}@chaos.example`,
      customerId: 700000 + n,
    };
    const started = Date.now() - 60_000;
    const line = {
      key: 'line-1',
      product_id: 5001,
      variant_id: 50011,
      sku: 'LAMP',
      title: 'Desk lamp',
      quantity: 1,
      price: '129.00',
      vendor: 'Chaos',
    };
    const checkout = (at: number, topic: string) =>
      shopifyDelivery(
        shop,
        topic,
        {
          id: 900000000 + n,
          token: `ck-${j.token}`,
          cart_token: j.token,
          email: j.email,
          phone: null,
          buyer_accepts_marketing: true,
          created_at: new Date(started).toISOString(),
          updated_at: new Date(at).toISOString(),
          completed_at: null,
          currency: 'USD',
          presentment_currency: 'USD',
          subtotal_price: '129.00',
          total_price: '129.00',
          total_tax: '0.00',
          abandoned_checkout_url: `https://${shop.domain}/checkout/${j.token}`,
          line_items: [line],
          customer: { id: j.customerId, email: j.email, first_name: 'Chaos', last_name: `Shopper ${n}` },
        },
        random,
      );
    add(checkout(started, 'checkouts/create'));
    if (random.chance(0.5)) add(checkout(started + 1_000, 'checkouts/update'));
    const fate = random.next();
    if (fate < 0.3) {
      const at = new Date(started + 2_000).toISOString();
      addLate(
        shopifyDelivery(
          shop,
          'orders/create',
          {
            id: 800000000 + n,
            checkout_token: `ck-${j.token}`,
            cart_token: j.token,
            email: j.email,
            created_at: at,
            updated_at: at,
            processed_at: at,
            currency: 'USD',
            presentment_currency: 'USD',
            subtotal_price: '129.00',
            total_price: '129.00',
            total_discounts: '0.00',
            financial_status: 'paid',
            discount_codes: [],
            line_items: [{ ...line, id: 1 }],
            customer: { id: j.customerId, email: j.email, first_name: 'Chaos', last_name: `Shopper ${n}` },
          },
          random,
        ),
      );
    } else if (fate < 0.45) {
      const at = new Date(started + 2_000).toISOString();
      addLate(
        shopifyDelivery(
          shop,
          'customers/update',
          {
            id: j.customerId,
            email: j.email,
            first_name: 'Chaos',
            last_name: `Shopper ${n}`,
            updated_at: at,
            email_marketing_consent: { state: 'unsubscribed', opt_in_level: 'single_opt_in', consent_updated_at: at },
          },
          random,
        ),
      );
    }
  }
  for (const { at, r } of late.sort((a, b) => b.at - a.at)) unique.splice(Math.min(at, unique.length), 0, r);
  // Poison: thin BigCommerce deliveries of a shop whose store API does not resolve.
  for (let i = 0; i < poisonCount; i++) {
    const at = random.int(0, unique.length);
    const d = bigCommerceDelivery(poisonShop, 'store/cart/created', { type: 'cart', id: `poison-${i}` }, random);
    unique.splice(at, 0, { delivery: d, poison: true, id: d.headers['webhook-id'] ?? '' });
  }
  // 5 % out of order: swapped with the next delivery.
  const list = [...unique];
  let outOfOrder = 0;
  for (let i = 0; i + 1 < list.length; i++) {
    if (random.chance(0.05)) {
      [list[i], list[i + 1]] = [list[i + 1], list[i]];
      outOfOrder++;
      i++;
    }
  }
  // 10 % duplicates: the same signed delivery again, later (a platform retry).
  let duplicates = 0;
  while (list.length < options.deliveries) {
    const i = random.int(0, unique.length - 1);
    const original = list.indexOf(unique[i]);
    list.splice(random.int(original + 1, list.length), 0, unique[i]);
    duplicates++;
  }
  return { list, duplicates, outOfOrder, poison: poisonCount };
}

// ------------------------------------------------------------------ PostgreSQL, a proxy in front of it

export class DatabaseProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private down = false;
  port = 0;

  constructor(private target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Every connection cut, new ones refused: the database is gone for the appliance. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(target?: { host: string; port: number }): void {
    if (target) this.target = target;
    this.down = false;
  }

  close(): void {
    this.cut();
    this.server?.close();
    this.server?.unref();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ the appliance as a child process

export class Appliance {
  private child?: ChildProcess;
  readonly url: string;
  private readonly output: string[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/reclaim/src/main.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, ...this.env, TS_NODE_TRANSPILE_ONLY: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the appliance exited (${child.exitCode}): ${this.tail()}`);
      const ok = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      await sleep(250);
    }
    throw new Error(`the appliance did not become healthy: ${this.tail()}`);
  }

  exited(): boolean {
    return this.child !== undefined && (this.child.exitCode !== null || this.child.signalCode !== null);
  }

  tail(): string {
    return this.output.join('').slice(-2_000);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
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

// ------------------------------------------------------------------ the run

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const outages = options.outages ?? 1;
  const dataDir = await mkdtemp(join(tmpdir(), 'reclaim-chaos-'));
  let embedded: EmbeddedPostgresHandle | undefined;
  let serverUrl = options.databaseUrl;
  if (!serverUrl) {
    log('starting an embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), persistent: true, port: await freePort() });
    serverUrl = embedded.url;
  }
  const dbName = `reclaim_chaos_${options.seed}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const server = new URL(serverUrl);
  const proxy = new DatabaseProxy({ host: server.hostname, port: Number(server.port || 5432) });
  await proxy.start();
  const direct = new URL(serverUrl);
  direct.pathname = `/${dbName}`;
  const proxied = new URL(direct.toString());
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);

  // The mail provider: the sandbox's SMTP server, in this process, so what it accepted survives the kills.
  const sink = new SmtpSink(SMTP_USER, SMTP_PASSWORD, new FaultBook());
  const smtpPort = await sink.start();
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: proxied.toString(),
    PORT: String(port),
    DATA_DIR: join(dataDir, 'data'),
    ADMIN_TOKEN,
    ANALYST_TOKEN: 'chaos-analyst-token-0123456789',
    RECLAIM_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
    STORE_ADAPTERS: 'off',
    ROLES: 'ingest,engine,projector',
    ABANDON_AFTER: '2s',
    FOLLOW_UP_DELAYS: '2s,4s',
    TIMER_TICK: '250ms',
    DEAD_LETTER_ATTEMPTS: '2',
    DEAD_LETTER_BACKOFF: '500ms',
    // A send claimed by a killed appliance (or one that lost its database) is taken over after this.
    EFFECT_LEASE: '20s',
    KAFKA_BROKERS: '',
    EMAIL_PROVIDER: 'smtp',
    SMTP_URL: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
    MAIL_FROM: `Chaos Lamps <shop@${MAIL_DOMAIN}>`,
    // The SMTP stand-in listens on 127.0.0.1: loopback provider URLs are opted into explicitly (R22).
    ALLOW_PRIVATE_STORE_URLS: 'true',
  };
  const app = new Appliance(env, port);
  const db = new Client({ connectionString: direct.toString() });
  let report: ChaosReport | undefined;
  try {
    log('starting the appliance');
    await app.start();
    await db.connect();
    const shops: WebhookShop[] = [];
    for (let i = 0; i < SHOPIFY_SHOPS; i++) {
      const shop: WebhookShop = {
        platform: 'shopify',
        domain: `chaos-${i}.myshopify.com`,
        secret: `chaos-secret-${i}-0123456789`,
      };
      const shopId = await createShop(app, {
        platform: 'shopify',
        shopDomain: shop.domain,
        webhookSecret: shop.secret,
        apiUrl: `https://${shop.domain}/admin/api/2025-10/graphql.json`,
        apiToken: `shpat_chaos_${i}`,
        currency: 'USD',
        timezone: 'UTC',
      });
      await adminCall(app, 'PUT', `/api/shops/${shopId}/settings`, { ...CHAOS_SETTINGS, domainAliases: [shop.domain] });
      shops.push(shop);
    }
    const poisonShop: WebhookShop = {
      platform: 'bigcommerce',
      domain: POISON_HASH,
      secret: 'whsec_' + Buffer.from('chaos-poison-secret-0123456789').toString('base64'),
    };
    await createShop(app, {
      platform: 'bigcommerce',
      shopDomain: POISON_HASH,
      webhookSecret: poisonShop.secret,
      apiUrl: `https://store-api.invalid/stores/${POISON_HASH}`,
      apiToken: 'bc-chaos-token',
      currency: 'USD',
      timezone: 'UTC',
    });
    const recording = record(options, shops, poisonShop);
    const total = recording.list.length;
    log(
      `replaying ${total} deliveries (${recording.duplicates} duplicates, ${recording.outOfOrder} swapped, ${recording.poison} poison)`,
    );

    // Faults at evenly spaced points of the replay: kills, and outages between them.
    const faults: { at: number; kind: 'kill' | 'outage' }[] = [];
    for (let k = 1; k <= options.kills; k++)
      faults.push({ at: Math.floor((total * k) / (options.kills + 1)), kind: 'kill' });
    for (let o = 1; o <= outages; o++)
      faults.push({ at: Math.floor((total * (o - 0.5)) / (outages + 0.5)), kind: 'outage' });
    faults.sort((a, b) => a.at - b.at);

    const acked = new Set<string>();
    let retries = 0;
    let rejected = 0;
    let done = 0;
    let next = 0;
    let faulting: Promise<void> | undefined;
    const injected = { kills: 0, outages: 0 };
    const inject = async (kind: 'kill' | 'outage') => {
      if (kind === 'kill') {
        options.onProgress?.(done, total, 'SIGKILL');
        await app.kill();
        injected.kills++;
        await app.start();
      } else {
        options.onProgress?.(done, total, 'PostgreSQL down');
        proxy.cut();
        if (embedded) {
          await embedded.stop();
          await sleep(1_000);
          embedded = await startEmbeddedPostgres({
            dataDir: join(dataDir, 'pg'),
            persistent: true,
            port: embedded.port,
          });
          proxy.restore({ host: '127.0.0.1', port: embedded.port });
        } else {
          await sleep(3_000);
          proxy.restore();
        }
        injected.outages++;
      }
      options.onProgress?.(done, total, 'replaying');
    };
    const send = async (r: Recorded) => {
      for (let attempt = 0; ; attempt++) {
        if (faulting) await faulting.catch(() => undefined);
        const status = await fetch(`${app.url}${r.delivery.path}`, {
          method: 'POST',
          headers: r.delivery.headers,
          body: r.delivery.body,
          signal: AbortSignal.timeout(10_000),
        })
          .then((res) => res.status)
          .catch(() => 0);
        if (status >= 200 && status < 300) {
          acked.add(`${r.delivery.path}|${r.id}`);
          return;
        }
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          rejected++;
          log(`rejected ${status}: ${r.delivery.path} ${r.id}`);
          return;
        }
        retries++;
        if (attempt % 10 === 9)
          log(
            `delivery ${r.id}: still no 2xx after ${attempt + 1} attempts (last ${status || 'no answer'})${app.exited() ? '; the appliance exited: ' + app.tail() : ''}`,
          );
        if (attempt > 400) throw new Error(`delivery ${r.id} was never acknowledged`);
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
      }
    };
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const fault = faults[0];
        if (fault !== undefined && i >= fault.at && faulting === undefined) {
          faults.shift();
          faulting = inject(fault.kind).finally(() => {
            faulting = undefined;
          });
        }
        await send(recording.list[i]);
        done++;
        options.onProgress?.(done, total, faulting ? 'fault' : 'replaying');
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    while (faulting) await faulting;
    for (const f of faults.splice(0)) await inject(f.kind);

    options.onProgress?.(done, total, 'settling');
    await settle(app, db, log, total);
    await app.stop();
    const invariants = await checkInvariants(db, env, recording.list, acked, poisonShop, sink.messages);
    const counts = await activity(db, sink.messages);
    report = {
      seed: options.seed,
      deliveries: total,
      sent: done,
      duplicates: recording.duplicates,
      outOfOrder: recording.outOfOrder,
      poison: recording.poison,
      kills: injected.kills,
      outages: injected.outages,
      retriesBySender: retries,
      rejected,
      ...counts,
      seconds: Math.round((Date.now() - started) / 1000),
      invariants: [
        { name: 'no delivery rejected (4xx)', ok: rejected === 0, detail: `${rejected} rejected` },
        ...invariants,
      ],
      ok: rejected === 0 && invariants.every((i) => i.ok),
    };
    return report;
  } catch (err) {
    log(`appliance output: ${app.tail()}`);
    throw err;
  } finally {
    await app.kill().catch(() => undefined);
    await db.end().catch(() => undefined);
    proxy.close();
    if (!(options.keep || (report !== undefined && !report.ok))) {
      const c = new Client({ connectionString: serverUrl });
      await c.connect().then(
        () => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => c.end()),
        () => undefined,
      );
    } else {
      log(`database kept: ${direct.toString()}`);
    }
    await sink.stop().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    if (!options.keep) await rm(dataDir, { recursive: true, force: true });
  }
}

async function adminCall(app: Appliance, method: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** The recovery side of the run: recoveries, due steps, sends (recorded and accepted), purchases, opt-outs. */
async function activity(db: Client, mail: readonly SinkMessage[]) {
  const { rows } = await db.query<{
    recoveries: number;
    steps_due: number;
    sent: number;
    purchases: number;
    opt_outs: number;
    purchases_after: number;
    opt_outs_after: number;
    parked: number;
    unknown: number;
  }>(
    `WITH sent AS (SELECT stream_id, min(global_position) AS first FROM event_store.events
                    WHERE ${SENT_EVENT} GROUP BY stream_id)
     SELECT (SELECT count(*)::int FROM event_store.events WHERE type = 'recovery.started') AS recoveries,
            (SELECT count(*)::int FROM event_store.events WHERE type = 'recovery.step-due') AS steps_due,
            (SELECT count(*)::int FROM event_store.events WHERE ${SENT_EVENT}) AS sent,
            (SELECT count(DISTINCT stream_id)::int FROM event_store.events WHERE type = 'cart.purchased') AS purchases,
            (SELECT count(*)::int FROM event_store.events
              WHERE type = 'customer.consent-changed' AND data->>'state' = 'unsubscribed') AS opt_outs,
            (SELECT count(*)::int FROM sent s JOIN event_store.events e ON e.stream_id = s.stream_id
              WHERE e.type = 'recovery.ended' AND e.data->>'reason' = 'purchased' AND e.global_position > s.first)
              AS purchases_after,
            (SELECT count(DISTINCT s.stream_id)::int FROM sent s JOIN event_store.events e ON e.stream_id = s.stream_id
              WHERE e.type = 'recovery.channel-revoked' AND e.global_position > s.first) AS opt_outs_after,
            (SELECT count(*)::int FROM event_store.subscription_blocked_keys WHERE status = 'parked') AS parked,
            (SELECT count(*)::int FROM event_store.events WHERE type = 'recovery.outcome-unknown') AS unknown`,
  );
  const r = rows[0];
  return {
    messagesSent: r.sent,
    messagesDelivered: mail.length,
    recoveries: r.recoveries,
    stepsDue: r.steps_due,
    purchases: r.purchases,
    optOuts: r.opt_outs,
    purchasesAfterMessage: r.purchases_after,
    optOutsAfterMessage: r.opt_outs_after,
    parked: r.parked,
    unknownOutcomes: r.unknown,
  };
}

async function createShop(app: Appliance, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${app.url}/api/shops`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ registerWebhooks: false, ...body }),
  });
  const text = await res.text();
  if (res.status !== 201)
    throw new Error(`could not create the shop ${String(body['shopDomain'])}: ${res.status} ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** Until every consumer has caught up, nothing is being retried and no timer or effect is due. */
async function settle(app: Appliance, db: Client, log: (line: string) => void, deliveries: number): Promise<void> {
  const limitMs = 180_000 + deliveries * 100;
  const deadline = Date.now() + limitMs;
  let quiet = 0;
  let polls = 0;
  while (Date.now() < deadline) {
    const health = (await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.json())
      .catch(() => undefined)) as
      { subscriptions?: Record<string, { pending: number; retrying?: number }> } | undefined;
    const subs = Object.values(health?.subscriptions ?? {});
    const { rows } = await db.query<{ timers: number; effects: number }>(
      `SELECT (SELECT count(*)::int FROM engine.timers WHERE fired_at IS NULL AND superseded_at IS NULL
                 AND due_at <= now() + interval '5 seconds') AS timers,
              (SELECT count(*)::int FROM engine.effect_queue WHERE done_at IS NULL) AS effects`,
    );
    const busy =
      subs.length === 0 ||
      subs.some((s) => s.pending > 0 || (s.retrying ?? 0) > 0) ||
      rows[0].timers > 0 ||
      rows[0].effects > 0;
    quiet = busy ? 0 : quiet + 1;
    if (busy && ++polls % 10 === 0)
      log(
        `settling: ${JSON.stringify(health?.subscriptions ?? {})}; ${rows[0].timers} timers, ${rows[0].effects} effects due`,
      );
    if (quiet >= 3) return;
    await sleep(1_000);
  }
  throw new Error(`the appliance did not settle within ${Math.round(limitMs / 1000)} s`);
}

// ------------------------------------------------------------------ the invariants, from the database

async function checkInvariants(
  db: Client,
  env: Record<string, string>,
  list: readonly Recorded[],
  acked: ReadonlySet<string>,
  poisonShop: WebhookShop,
  mail: readonly SinkMessage[],
): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const check = (name: string, ok: boolean, detail: string) => results.push({ name, ok, detail });

  // 1. Every 2xx stored exactly once, keyed by (platform, shop, delivery id).
  const unique = new Map(list.map((r) => [`${r.delivery.path}|${r.id}`, r]));
  const stored = await db.query<{ id: string; n: number }>(
    `SELECT data->>'deliveryId' AS id, count(*)::int AS n FROM event_store.events
      WHERE type = 'webhook.received' GROUP BY 1`,
  );
  const storedIds = new Map(stored.rows.map((r) => [r.id, r.n]));
  const twice = stored.rows.filter((r) => r.n !== 1).length;
  const missing = [...acked].filter((k) => !storedIds.has(k.split('|')[1])).length;
  check(
    'every 2xx stored exactly once',
    twice === 0 && missing === 0 && acked.size === unique.size,
    `${acked.size}/${unique.size} distinct deliveries acknowledged, ${storedIds.size} stored, ${missing} missing, ${twice} stored twice`,
  );

  // 2. Every applicable delivery applied: the delivery processor passed it and holds none of them.
  const applied = await db.query<{ unapplied: number; held: number }>(
    `SELECT (SELECT count(*)::int FROM event_store.events e WHERE e.type = 'webhook.received'
               AND e.data->>'shopId' NOT IN (SELECT id::text FROM app.shops WHERE shop_domain = $1)
               AND e.global_position > coalesce((SELECT split_part(position, '/', 1)::bigint
                     FROM event_store.subscription_checkpoints WHERE name = 'ingest.delivery-processor'), -1)) AS unapplied,
            (SELECT count(*)::int FROM event_store.subscription_blocked_events b
               JOIN event_store.events e ON e.event_id::text = b.event_id
              WHERE b.subscription = 'ingest.delivery-processor'
                AND e.data->>'shopId' NOT IN (SELECT id::text FROM app.shops WHERE shop_domain = $1)) AS held`,
    [poisonShop.domain],
  );
  check(
    'every applicable delivery applied',
    applied.rows[0].unapplied === 0 && applied.rows[0].held === 0,
    `${applied.rows[0].unapplied} behind the checkpoint, ${applied.rows[0].held} held`,
  );

  // 3. Poison ones parked (dead letters), not lost and not blocking.
  const poisonIds = new Set(list.filter((r) => r.poison).map((r) => r.id));
  const parked = await db.query<{ id: string; status: string }>(
    `SELECT e.data->>'deliveryId' AS id, k.status FROM event_store.subscription_blocked_events b
       JOIN event_store.subscription_blocked_keys k ON k.subscription = b.subscription AND k.key = b.key
       JOIN event_store.events e ON e.event_id::text = b.event_id
      WHERE b.subscription = 'ingest.delivery-processor'`,
  );
  const parkedPoison = parked.rows.filter((r) => poisonIds.has(r.id) && r.status === 'parked').length;
  check(
    'poison deliveries parked as dead letters',
    parkedPoison === poisonIds.size,
    `${parkedPoison}/${poisonIds.size} parked`,
  );

  // 4. At most one message per (cart, step, channel). A send whose outcome came back after the
  //    recovery ended is recorded as `recovery.late-outcome{outcome: sent}`: it went out all the same.
  const dup = await db.query<{ n: number; total: number }>(
    `SELECT count(*) FILTER (WHERE c > 1)::int AS n, coalesce(sum(c), 0)::int AS total FROM (
       SELECT count(*) AS c FROM event_store.events WHERE ${SENT_EVENT}
        GROUP BY stream_id, data->>'step', data->>'channel') x`,
  );
  check(
    '≤ 1 message per (cart, step, channel)',
    dup.rows[0].n === 0,
    `${dup.rows[0].total} messages, ${dup.rows[0].n} duplicated`,
  );

  // 5. None after purchase or opt-out: no send recorded after its recovery ended, nor sent (the
  //    outcome's time, right after the provider's answer) later than a second after the cart's
  //    purchase or the customer's opt-out was recorded.
  const late = await db.query<{ after_end: number; after_purchase: number; after_optout: number }>(
    `WITH sent AS (
       SELECT stream_id, global_position, (data->>'at')::timestamptz AS recorded_at, type
         FROM event_store.events WHERE ${SENT_EVENT})
     SELECT
       (SELECT count(*)::int FROM sent s WHERE s.type = 'recovery.message-sent' AND EXISTS (
          SELECT 1 FROM event_store.events e WHERE e.stream_id = s.stream_id AND e.type = 'recovery.ended'
             AND e.global_position < s.global_position)) AS after_end,
       (SELECT count(*)::int FROM sent s JOIN event_store.events p
           ON p.type IN ('cart.purchased', 'cart.checkout-completed')
          AND s.stream_id = 'recovery-' || (p.data->>'shopId') || '-' || (p.data->>'cartId')
        WHERE s.recorded_at > p.recorded_at + interval '1 second') AS after_purchase,
       (SELECT count(*)::int FROM sent s
          JOIN engine.customer_recoveries cr ON cr.recovery_id = s.stream_id
          JOIN event_store.events o ON o.type = 'customer.consent-changed' AND o.data->>'state' = 'unsubscribed'
           AND o.data->>'shopId' = cr.shop_id::text AND o.data->>'customerKey' = cr.customer_key
        WHERE s.recorded_at > o.recorded_at + interval '1 second') AS after_optout`,
  );
  const l = late.rows[0];
  check(
    'no message after purchase or opt-out',
    l.after_end + l.after_purchase + l.after_optout === 0,
    `${l.after_end} after the end, ${l.after_purchase} after a purchase, ${l.after_optout} after an opt-out`,
  );

  // 4b–5b. The same two, from what the mail server accepted (the outside effect, kills included):
  //   each accepted message's Message-ID is derived from its (recovery, step, channel) key.
  const keys = await db.query<{ recovery: string; step: string }>(
    `SELECT DISTINCT stream_id AS recovery, data->>'step' AS step FROM event_store.events WHERE type = 'recovery.step-due'`,
  );
  const byMessageId = new Map(
    keys.rows.map((k) => [smtpMessageId(`${k.recovery}:step-${k.step}:email`, MAIL_DOMAIN), k.recovery]),
  );
  const accepted = new Map<string, number>();
  for (const m of mail) {
    const id = m.headers['message-id'] ?? '';
    accepted.set(id, (accepted.get(id) ?? 0) + 1);
  }
  const unknown = [...accepted.keys()].filter((id) => !byMessageId.has(id)).length;
  const acceptedTwice = [...accepted.values()].filter((n) => n > 1).length;
  check(
    'messages were sent (recorded and accepted by the mail server)',
    dup.rows[0].total > 0 && mail.length > 0,
    `${dup.rows[0].total} recorded as sent, ${mail.length} accepted by the SMTP server`,
  );
  check(
    '≤ 1 message per (cart, step, channel) at the mail server',
    acceptedTwice === 0 && unknown === 0,
    `${accepted.size} distinct Message-IDs in ${mail.length} messages, ${acceptedTwice} accepted twice, ${unknown} of no due step`,
  );
  const ends = await db.query<{ recovery: string; purchased: Date | null; opted_out: Date | null }>(
    `SELECT r.recovery,
            (SELECT min(p.recorded_at) FROM event_store.events p
              WHERE p.type IN ('cart.purchased', 'cart.checkout-completed')
                AND r.recovery = 'recovery-' || (p.data->>'shopId') || '-' || (p.data->>'cartId')) AS purchased,
            (SELECT min(o.recorded_at) FROM engine.customer_recoveries cr
               JOIN event_store.events o ON o.type = 'customer.consent-changed' AND o.data->>'state' = 'unsubscribed'
                AND o.data->>'shopId' = cr.shop_id::text AND o.data->>'customerKey' = cr.customer_key
              WHERE cr.recovery_id = r.recovery) AS opted_out
       FROM (SELECT DISTINCT stream_id AS recovery FROM event_store.events WHERE type = 'recovery.step-due') r`,
  );
  const endOf = new Map(ends.rows.map((r) => [r.recovery, r]));
  let mailAfterPurchase = 0;
  let mailAfterOptOut = 0;
  for (const m of mail) {
    const end = endOf.get(byMessageId.get(m.headers['message-id'] ?? '') ?? '');
    const at = Date.parse(m.receivedAt);
    if (end?.purchased && at > end.purchased.getTime() + 1_000) mailAfterPurchase++;
    if (end?.opted_out && at > end.opted_out.getTime() + 1_000) mailAfterOptOut++;
  }
  check(
    'no message after purchase or opt-out at the mail server',
    mailAfterPurchase + mailAfterOptOut === 0,
    `${mailAfterPurchase} accepted after a purchase, ${mailAfterOptOut} after an opt-out`,
  );

  // 6. Read models equal a fresh rebuild.
  check(...(await compareWithRebuild(db, env)));
  return results;
}

async function compareWithRebuild(db: Client, env: Record<string, string>): Promise<[string, boolean, string]> {
  const { READ_MODEL_PROJECTIONS, rebuildProjection } = await import('@reclaim/read-models');
  const tables = [...new Set(READ_MODEL_PROJECTIONS.flatMap((p) => p.tables.map((t) => t.name)))];
  const dump = async () => {
    const out = new Map<string, string>();
    for (const t of tables) {
      const { rows } = await db.query<{ j: string }>(
        `SELECT coalesce(json_agg(x ORDER BY x::text), '[]')::text AS j FROM (SELECT * FROM read."${t}") x`,
      );
      out.set(t, rows[0].j);
    }
    return out;
  };
  const before = await dump();
  const { loadConfig } = await import('../../apps/reclaim/src/config/app-config');
  const { createRuntime } = await import('../../apps/reclaim/src/runtime/runtime');
  const { createLogger } = await import('../../apps/reclaim/src/logging');
  const config = loadConfig({ ...env, ROLES: 'none' });
  const runtime = await createRuntime(config, { log: createLogger('silent') });
  try {
    for (const p of READ_MODEL_PROJECTIONS)
      await rebuildProjection(p, { store: runtime.store, pool: runtime.pool, vault: runtime.vault });
  } finally {
    await runtime.close();
  }
  const after = await dump();
  const differ = tables.filter((t) => before.get(t) !== after.get(t));
  return [
    'read models equal a fresh rebuild',
    differ.length === 0,
    differ.length === 0 ? `${tables.length} tables identical` : `differ: ${differ.join(', ')}`,
  ];
}

/** The summary table (plain text). */
export function formatReport(r: ChaosReport): string {
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['deliveries replayed', `${r.sent}/${r.deliveries}`],
    ['duplicates / out of order / poison', `${r.duplicates} / ${r.outOfOrder} / ${r.poison}`],
    ['SIGKILLs / PostgreSQL outages', `${r.kills} / ${r.outages}`],
    ['sender retries (no 2xx yet)', String(r.retriesBySender)],
    ['recoveries started / steps due', `${r.recoveries} / ${r.stepsDue}`],
    ['messages sent (recorded / accepted by SMTP)', `${r.messagesSent} / ${r.messagesDelivered}`],
    ['purchases (after a message)', `${r.purchases} (${r.purchasesAfterMessage})`],
    ['opt-outs (after a message)', `${r.optOuts} (${r.optOutsAfterMessage})`],
    ['send outcomes unknown after a kill (reconciled)', String(r.unknownOutcomes)],
    ['parked dead letters (keys)', String(r.parked)],
    ['duration', `${r.seconds} s`],
    ...r.invariants.map((i): [string, string] => [`${i.ok ? 'PASS' : 'FAIL'} ${i.name}`, i.detail]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const line = '─'.repeat(w + 2) + '┼' + '─'.repeat(Math.max(...rows.map(([, v]) => v.length)) + 2);
  return [
    line,
    ...rows.map(([k, v]) => ` ${k.padEnd(w)} │ ${v}`),
    line,
    r.ok ? ' ALL INVARIANTS HOLD' : ' INVARIANTS BROKEN',
  ].join('\n');
}
