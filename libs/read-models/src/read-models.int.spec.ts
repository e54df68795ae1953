/**
 * The read models on a real PostgreSQL: migrations and entities agree, projections fed by the real
 * recovery process manager's events, tables built incrementally equal a fresh rebuild (R5), replays
 * change nothing, and the analyst role reads `read` and nothing else (R20).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { migrateRecoveryEngine, ShopRegistry } from '@reclaim/application';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import {
  EventTypes,
  event,
  type CartActivityRecorded,
  type CustomerRedacted,
  type CustomerUpserted,
  type ShopRedacted,
} from '@reclaim/domain';
import { ensureCheckpointTable, PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { PersonalDataVault } from '@reclaim/privacy';
import { READ_MODEL_ENTITIES } from './entities';
import { liftReport } from './lift/lift-query';
import { dashboardKpis } from './queries/dashboard';
import { subscriptionLags } from './metrics/lag';
import { migrateReadModels, readModelsDataSource } from './migrate';
import { READ_MODEL_PROJECTIONS, rebuildProjection, runProjection } from './projections';
import { ALL_TABLES, qualified } from './schema';
import type { ContactDetails } from '@reclaim/domain';
import { appendSimulation, simulate } from './testing/simulate';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function customerUpserted(
  vault: PersonalDataVault,
  shopId: string,
  customerKey: string,
  contact: ContactDetails | undefined,
  at: string,
): Promise<CustomerUpserted> {
  return event<CustomerUpserted>(EventTypes.CustomerUpserted, {
    shopId,
    causationId: randomUUID(),
    receivedAt: at,
    platform: 'shopify',
    platformUpdatedAt: at,
    customerKey,
    ...(contact ? { contact: await vault.seal(shopId, customerKey, contact) } : {}),
    reach: { email: Boolean(contact?.email), sms: Boolean(contact?.phone) },
    ordersCount: 1,
    tags: [],
  });
}

function customerRedacted(shopId: string, customerKey: string, at: string): CustomerRedacted {
  return event<CustomerRedacted>(EventTypes.CustomerRedacted, {
    shopId,
    causationId: randomUUID(),
    receivedAt: at,
    platform: 'shopify',
    customerKey,
    orderIds: [],
    redactedAt: at,
  });
}

async function appendCustomer(store: EventStore, shopId: string, key: string, events: readonly { type: string }[]) {
  await store.append(
    `customer-${shopId}-${key}`,
    events.map((e) => ({ id: randomUUID(), ...(e as CustomerUpserted) })),
    'any',
  );
}

/** Every row of every table of schema `read`, as text. */
async function everythingInRead(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_schema = 'read' AND table_type = 'BASE TABLE'`,
  );
  let text = '';
  for (const { name } of rows) {
    for (const r of (await pool.query<{ t: string }>(`SELECT t::text AS t FROM read.${name} t`)).rows)
      text += `${r.t}\n`;
  }
  return text;
}

async function snapshot(pool: Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of ALL_TABLES) {
    out[t.name] = (await pool.query(`SELECT * FROM ${qualified(t)} ORDER BY ${t.key.join(', ')}`)).rows;
  }
  return out;
}

describe('read models (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  let vault: PersonalDataVault;
  const shopId = randomUUID();
  const goneShop = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_read_models');
    pool = new Pool({ connectionString: db.url, max: 12 });
    await PostgresEventStore.migrate(pool);
    await ensureCheckpointTable(pool);
    await PersonalDataVault.migrate(pool);
    await ShopRegistry.migrate(pool);
    await migrateRecoveryEngine(pool);
    expect(await migrateReadModels(pool, db.url)).toEqual([
      'ReadModels1767225600000',
      'AnalystRole1767225600001',
      'CustomerContacts1767225600002',
      'LiftArms1767225600003',
      'BlockedSteps1767225600004',
      'ResponseRates1767225600013',
      'BackInStockMessages1767225600014',
      'Models1767225600015',
      'SendTimeArms1767225600016',
      'RoutingBands1767225600017',
      'Experiments1767225600019',
      'Incentives1767225600021',
      'IncentiveUpliftArms1767225600022',
      'PolicyArms1767225600023',
    ]);
    store = new PostgresEventStore({ pool });
    vault = new PersonalDataVault(pool, randomBytes(32));
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  it('runs its migrations once, and the TypeORM entities match the migrated tables', async () => {
    expect(await migrateReadModels(pool, db.url)).toEqual([]);
    const source = readModelsDataSource(db.url);
    await source.initialize();
    try {
      expect(source.entityMetadatas).toHaveLength(READ_MODEL_ENTITIES.length);
      const pending = await source.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await source.destroy();
    }
  });

  it('projects the log incrementally, equal to a fresh rebuild (R5); replays change nothing', async () => {
    const abort = new AbortController();
    const running = READ_MODEL_PROJECTIONS.map((p) =>
      runProjection(p, { store, pool, vault, signal: abort.signal, batchSize: 37 }),
    );
    // Three rounds appended while the projections run (batches cut anywhere), plus a shop that is erased.
    for (let round = 0; round < 3; round++) {
      await appendSimulation(store, simulate({ shopId, carts: 40, seed: round + 1, offset: round * 40 }));
    }
    // Customers with sealed contacts: kept, redacted (key shredded), shredded without an event yet, erased shop.
    const now = () => new Date().toISOString();
    for (let i = 0; i < 6; i++) {
      const contact = { email: `person${i}@example.com`, phone: `+4477009001${i}0`, firstName: `F${i}`, lastName: 'L' };
      await appendCustomer(store, shopId, `e-contact${i}`, [
        await customerUpserted(vault, shopId, `e-contact${i}`, contact, now()),
      ]);
    }
    const cart = event<CartActivityRecorded>(EventTypes.CartActivityRecorded, {
      shopId,
      causationId: randomUUID(),
      receivedAt: now(),
      platform: 'shopify',
      platformUpdatedAt: now(),
      cartId: 'contact-cart',
      source: 'checkout',
      customerKey: 'e-contact1',
      contact: await vault.seal(shopId, 'e-contact1', { email: 'newer@example.org' }),
      reach: { email: true, sms: false },
      lineItems: [],
      currency: 'USD',
      subtotal: '1.00',
      total: '1.00',
    });
    await store.append(`cart-${shopId}-contact-cart`, [{ id: randomUUID(), ...cart }], 'any');
    // Sealed before its key is shredded: opens to null, so the row of e-contact3 goes.
    const unopenable = await customerUpserted(vault, shopId, 'e-contact3', { email: 'late@example.com' }, now());
    await vault.shred(shopId, ['e-contact2', 'e-contact3']);
    await appendCustomer(store, shopId, 'e-contact2', [customerRedacted(shopId, 'e-contact2', now())]);
    await appendCustomer(store, shopId, 'e-contact3', [unopenable]);
    await appendCustomer(store, goneShop, 'e-gone', [
      await customerUpserted(vault, goneShop, 'e-gone', { email: 'gone@example.com' }, now()),
    ]);
    await appendSimulation(store, simulate({ shopId: goneShop, carts: 5, seed: 9 }));
    const redacted = event<ShopRedacted>(EventTypes.ShopRedacted, {
      shopId: goneShop,
      causationId: randomUUID(),
      receivedAt: new Date().toISOString(),
      platform: 'shopify',
      requestedAt: new Date().toISOString(),
    });
    await store.append(`shop-${goneShop}`, [{ id: randomUUID(), ...redacted }], 'any');
    const subs = READ_MODEL_PROJECTIONS.map((p) => ({ name: p.subscription, filter: p.filter }));
    await waitFor(async () => (await subscriptionLags(pool, store, subs)).every((l) => l.pending === 0));
    abort.abort();
    await Promise.all(running);

    const incremental = await snapshot(pool);
    // The SQL surface reflects the log.
    const all = await store.readAll();
    const count = (type: string) => all.filter((e) => e.type === type && !e.streamId.includes(goneShop)).length;
    const one = async (sql: string) => Number((await pool.query(sql)).rows[0].n);
    expect(await one(`SELECT count(*) AS n FROM read.carts`)).toBe(121); // 120 simulated + the contact cart
    expect(await one(`SELECT count(*) AS n FROM read.recoveries WHERE shop_id = '${goneShop}'`)).toBe(0);
    expect(await one(`SELECT count(*) AS n FROM read.recoveries WHERE first_abandoned_at IS NOT NULL`)).toBe(
      count('recovery.started'),
    );
    expect(await one(`SELECT count(*) AS n FROM read.messages WHERE status = 'sent'`)).toBe(
      count('recovery.message-sent'),
    );
    expect(await one(`SELECT count(*) AS n FROM read.messages WHERE status = 'skipped'`)).toBeGreaterThan(0);
    expect(await one(`SELECT count(*) AS n FROM read.messages WHERE clicked_at IS NOT NULL`)).toBe(
      count('recovery.message-clicked'),
    );
    expect(await one(`SELECT count(*) AS n FROM read.attribution`)).toBe(count('recovery.order-attributed'));
    expect(await one(`SELECT count(*) AS n FROM read.recoveries WHERE holdout`)).toBe(
      count('recovery.assigned-holdout'),
    );
    expect(await one(`SELECT count(*) AS n FROM read.scores`)).toBe(count('recovery.segmented'));
    // Masked contacts: the cart's newer contact wins; redacted / shredded customers and the erased shop have none.
    const contacts = await pool.query(
      `SELECT shop_id, customer_key, email_masked, phone_masked, name_initials FROM read.customer_contacts ORDER BY 2`,
    );
    expect(contacts.rows.map((r) => r.customer_key)).toEqual(['e-contact0', 'e-contact1', 'e-contact4', 'e-contact5']);
    expect(contacts.rows[0]).toMatchObject({
      email_masked: 'p***@example.com',
      phone_masked: '+44******0100',
      name_initials: 'FL',
    });
    expect(contacts.rows[1]).toMatchObject({
      email_masked: 'n***@example.org',
      phone_masked: null,
      name_initials: null,
    });
    // The funnel's cohort rows add up to the recoveries, per arm and in total.
    const funnel = await pool.query(
      `SELECT arm, sum(abandoned)::int AS abandoned, sum(recovered)::int AS recovered, sum(revenue) AS revenue
         FROM read.daily_funnel WHERE segment = 'all' AND step = -1 GROUP BY arm ORDER BY arm`,
    );
    const direct = await pool.query(
      `SELECT arm, count(*)::int AS abandoned,
              count(*) FILTER (WHERE recovered)::int AS recovered,
              coalesce(sum(o.total) FILTER (WHERE r.recovered), 0) AS revenue
         FROM read.recoveries r LEFT JOIN read.orders o ON o.shop_id = r.shop_id AND o.order_id = r.order_id
        WHERE first_abandoned_at IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    expect(funnel.rows).toEqual(direct.rows);
    expect(direct.rows.reduce((n, r) => n + r.recovered, 0)).toBeGreaterThan(0);

    // Replaying a batch already applied (duplicate delivery) changes nothing.
    const recoveryEvents = all.filter((e) => e.type.startsWith('recovery.')).slice(0, 200);
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await READ_MODEL_PROJECTIONS[2].apply(recoveryEvents, tx);
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    expect(await snapshot(pool)).toEqual(incremental);

    // A fresh rebuild of every projection gives identical tables.
    for (const p of READ_MODEL_PROJECTIONS) {
      const progress: number[] = [];
      const result = await rebuildProjection(p, {
        store,
        pool,
        vault,
        batchSize: 101,
        onProgress: (x) => progress.push(x.events),
      });
      expect(result.events).toBe(all.filter((e) => p.filter.typePrefixes?.some((t) => e.type.startsWith(t))).length);
      expect(progress[progress.length - 1]).toBe(result.events);
    }
    expect(await snapshot(pool)).toEqual(incremental);

    // Past its memory budget a rebuild writes what it folded and goes on batch by batch: same tables.
    for (const p of READ_MODEL_PROJECTIONS) {
      const result = await rebuildProjection(p, { store, pool, vault, batchSize: 101, maxRows: 50 });
      expect(result.events).toBe(all.filter((e) => p.filter.typePrefixes?.some((t) => e.type.startsWith(t))).length);
    }
    expect(await snapshot(pool)).toEqual(incremental);
  });

  it("a rebuild ends this database's projector holding the lock, never another database's", async () => {
    const p = READ_MODEL_PROJECTIONS.find((x) => x.name === 'customers');
    if (!p) throw new Error('no customers projection');
    const lockSql = `SELECT pg_advisory_lock(hashtext('reclaim.subscription'), hashtext($1))`;
    const other = await createTestDatabase('reclaim_read_models_other');
    const elsewhere = new Client({ connectionString: other.url });
    const here = new Client({ connectionString: db.url });
    const ended: Error[] = [];
    here.on('error', (err) => ended.push(err));
    await elsewhere.connect();
    await here.connect();
    try {
      // The same key held in another database (its own appliance or test) and here (a running projector).
      await elsewhere.query(lockSql, [p.subscription]);
      await here.query(lockSql, [p.subscription]);
      await rebuildProjection(p, { store, pool, vault });
      await waitFor(async () => ended.length > 0, 5_000);
      expect((ended[0] as { code?: string }).code).toBe('57P01');
      const { rows } = await elsewhere.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
    } finally {
      await here.end().catch(() => undefined);
      await elsewhere.end().catch(() => undefined);
      await other.drop();
    }
  });

  it('holds contacts only masked: no clear text anywhere in schema read; a redaction removes the row', async () => {
    const shop = randomUUID();
    const email = 'zoë.known-person@bücher.example';
    const phone = '+447700900987';
    const abort = new AbortController();
    const customers = READ_MODEL_PROJECTIONS.find((p) => p.name === 'customers');
    if (!customers) throw new Error('no customers projection');
    const running = runProjection(customers, { store, pool, vault, signal: abort.signal });
    const caughtUp = () =>
      waitFor(async () =>
        (await subscriptionLags(pool, store, [{ name: customers.subscription, filter: customers.filter }])).every(
          (l) => l.pending === 0,
        ),
      );
    try {
      const contact = { email, phone, firstName: 'Zoë', lastName: 'Known-Person', address: '1 Secret Street' };
      await appendCustomer(store, shop, 'e-known', [
        await customerUpserted(vault, shop, 'e-known', contact, new Date().toISOString()),
      ]);
      await caughtUp();
      const masked = await pool.query(`SELECT * FROM read.customers_masked WHERE shop_id = $1`, [shop]);
      expect(masked.rows).toEqual([
        expect.objectContaining({
          customer_key: 'e-known',
          reach_email: true,
          email_masked: 'z***@bücher.example',
          phone_masked: '+44******0987',
          name_initials: 'ZK',
        }),
      ]);
      const everything = (await everythingInRead(pool)).toLowerCase();
      for (const clear of [email, 'zoë.known-person', 'known-person', '7700900987', 'secret street']) {
        expect(everything).not.toContain(clear.toLowerCase());
      }

      await vault.shred(shop, ['e-known']);
      await appendCustomer(store, shop, 'e-known', [customerRedacted(shop, 'e-known', new Date().toISOString())]);
      await caughtUp();
      expect((await pool.query(`SELECT * FROM read.customer_contacts WHERE shop_id = $1`, [shop])).rows).toEqual([]);
      const after = await pool.query(`SELECT email_masked, redacted_at FROM read.customers_masked WHERE shop_id = $1`, [
        shop,
      ]);
      expect(after.rows).toEqual([{ email_masked: null, redacted_at: expect.any(Date) }]);
    } finally {
      abort.abort();
      await running;
    }
  });

  it('reports lift per shop × segment × sequence, "not enough data yet" below the minimum', async () => {
    const view = await pool.query(`SELECT * FROM read.lift WHERE shop_id = $1 AND segment = 'all'`, [shopId]);
    expect(view.rows.length).toBeGreaterThan(0);
    for (const r of view.rows) {
      if (r.holdout_carts < 30 || r.treated_carts < 30) {
        expect(r).toMatchObject({ status: 'not enough data yet', recovery_rate_lift: null });
      }
    }
    const strict = await liftReport(pool, { shopId, minimum: 1_000 });
    expect(strict.every((r) => r.lift.status === 'not enough data yet')).toBe(true);
    const loose = await liftReport(pool, { shopId, minimum: 2 });
    const all = loose.filter((r) => r.segment === 'all' && r.lift.status === 'ok');
    expect(all.length).toBeGreaterThan(0);
    for (const row of all) {
      if (row.lift.status !== 'ok') continue;
      const { rows } = await pool.query(
        `SELECT avg(recovered::int) FILTER (WHERE arm = 'live-treated') AS t, avg(recovered::int) FILTER (WHERE arm = 'holdout') AS h
           FROM read.recoveries WHERE shop_id = $1 AND coalesce(sequence_id, 'none') = $2 AND first_abandoned_at IS NOT NULL`,
        [shopId, row.sequenceId],
      );
      expect(row.lift.recoveryRateLift.estimate).toBeCloseTo(Number(rows[0].t) - Number(rows[0].h), 10);
      expect(row.lift.recoveryRateLift.low).toBeLessThan(row.lift.recoveryRateLift.estimate);
    }
  });

  it('records the policy arm of each recovery, and lays holdout, fixed rules and shop policy side by side per currency (RFC 0021)', async () => {
    const armShop = randomUUID();
    const logs = [
      simulate({ shopId: armShop, carts: 60, seed: 21, holdoutPercent: 20, policyControlPercent: 40 }),
      simulate({
        shopId: armShop,
        carts: 30,
        seed: 22,
        holdoutPercent: 20,
        policyControlPercent: 40,
        currency: 'EUR',
        offset: 60,
      }),
    ];
    const abort = new AbortController();
    const running = READ_MODEL_PROJECTIONS.map((p) => runProjection(p, { store, pool, vault, signal: abort.signal }));
    for (const log of logs) await appendSimulation(store, log);
    const subs = READ_MODEL_PROJECTIONS.map((p) => ({ name: p.subscription, filter: p.filter }));
    await waitFor(async () => (await subscriptionLags(pool, store, subs)).every((l) => l.pending === 0));
    abort.abort();
    await Promise.all(running);

    // What the log says, recovery by recovery: arm, propensity, outcome and the order's total.
    type Expected = { recoveries: number; recovered: number; revenue: number; propensities: number[] };
    const expected = new Map<string, Expected>();
    const arms = new Map<string, { arm: string | null; propensity: number | null }>();
    for (const [i, log] of logs.entries()) {
      const currency = i === 0 ? 'USD' : 'EUR';
      const totals = new Map<string, number>();
      for (const st of log.streams) {
        for (const e of st.events) {
          if (e.type === 'order.placed') {
            const d = e.data as { orderId: string; total: string };
            totals.set(d.orderId, Number(d.total));
          }
        }
      }
      for (const st of log.streams.filter((x) => x.streamId.startsWith('recovery-'))) {
        const data = (type: string) =>
          st.events.find((e) => e.type === type)?.data as Record<string, unknown> | undefined;
        const started = data('recovery.started');
        if (started === undefined) continue;
        const drawn = data('recovery.policy-arm-assigned');
        arms.set(st.streamId, {
          arm: (drawn?.arm as string | undefined) ?? null,
          propensity: (drawn?.propensity as number | undefined) ?? null,
        });
        const arm = started.arm === 'holdout' ? 'holdout' : (drawn?.arm as string | undefined);
        if (started.arm === 'holdout') expect(drawn).toBeUndefined();
        if (arm === undefined || (arm !== 'holdout' && started.arm !== 'live-treated')) continue;
        const ended = data('recovery.ended');
        const recovered = ended?.reason === 'purchased';
        const key = `${currency}/${arm}`;
        const x = expected.get(key) ?? { recoveries: 0, recovered: 0, revenue: 0, propensities: [] };
        x.recoveries++;
        if (recovered) {
          x.recovered++;
          x.revenue += totals.get(ended!.orderId as string) ?? 0;
        }
        if (arm !== 'holdout') x.propensities.push(drawn!.propensity as number);
        expected.set(key, x);
      }
    }
    expect([...expected.keys()].sort()).toEqual([
      'EUR/fixed-rules',
      'EUR/holdout',
      'EUR/shop-policy',
      'USD/fixed-rules',
      'USD/holdout',
      'USD/shop-policy',
    ]);
    expect(expected.get('USD/fixed-rules')!.propensities.every((p) => p === 0.4)).toBe(true);
    expect(expected.get('USD/shop-policy')!.propensities.every((p) => p === 0.6)).toBe(true);

    // The columns, recovery by recovery.
    const { rows } = await pool.query<{
      recovery_id: string;
      policy_arm: string | null;
      policy_arm_propensity: string | null;
    }>(
      `SELECT recovery_id, policy_arm, policy_arm_propensity FROM read.recoveries
        WHERE shop_id = $1 AND first_abandoned_at IS NOT NULL`,
      [armShop],
    );
    expect(rows).toHaveLength(arms.size);
    for (const r of rows) {
      const want = arms.get(r.recovery_id)!;
      expect({
        arm: r.policy_arm,
        propensity: r.policy_arm_propensity === null ? null : Number(r.policy_arm_propensity),
      }).toEqual(want);
    }

    // The view's numbers.
    const view = await pool.query(
      `SELECT * FROM read.policy_arm_lift WHERE shop_id = $1 ORDER BY currency, policy_arm`,
      [armShop],
    );
    expect(view.rows.map((r) => `${r.currency}/${r.policy_arm}`)).toEqual([...expected.keys()].sort());
    for (const r of view.rows) {
      const x = expected.get(`${r.currency}/${r.policy_arm}`)!;
      const h = expected.get(`${r.currency}/holdout`)!;
      expect(r.recoveries).toBe(x.recoveries);
      expect(r.recovered).toBe(x.recovered);
      expect(Number(r.recovery_rate)).toBeCloseTo(x.recovered / x.recoveries, 4);
      expect(Number(r.recovered_revenue)).toBeCloseTo(x.revenue, 2);
      expect(Number(r.net_revenue)).toBeCloseTo(x.revenue - Number(r.discount_cost), 2);
      expect(Number(r.recovery_rate_vs_holdout)).toBeCloseTo(
        x.recovered / x.recoveries - h.recovered / h.recoveries,
        3,
      );
      if (r.policy_arm === 'holdout') expect(r.mean_propensity).toBeNull();
      else expect(Number(r.mean_propensity)).toBe(r.policy_arm === 'fixed-rules' ? 0.4 : 0.6);
    }
    expect(view.rows.reduce((n, r) => n + r.recovered, 0)).toBeGreaterThan(0);

    // The dashboard's figure: messaged carts on the shop policy vs the fixed rules (both currencies).
    const both = (arm: string) => {
      const xs = ['USD', 'EUR'].map((c) => expected.get(`${c}/${arm}`)!);
      const vs = view.rows.filter((r) => r.policy_arm === arm);
      return {
        carts: xs.reduce((n, x) => n + x.recoveries, 0),
        recovered: xs.reduce((n, x) => n + x.recovered, 0),
        net: vs.reduce((n, r) => n + Number(r.net_revenue), 0),
      };
    };
    const kpis = await dashboardKpis(pool, { shopIds: [armShop], from: '2000-01-01', to: '2100-12-31' }, { minimum: 5 });
    const [sp, fr] = [both('shop-policy'), both('fixed-rules')];
    const pc = kpis.policyControl;
    if (pc.status !== 'ok') throw new Error(`expected the policy control figure, got ${pc.status}`);
    expect([pc.shopPolicyCarts, pc.fixedRulesCarts]).toEqual([sp.carts, fr.carts]);
    expect(pc.shopPolicyRecoveryRate).toBeCloseTo(sp.recovered / sp.carts, 9);
    expect(pc.fixedRulesRecoveryRate).toBeCloseTo(fr.recovered / fr.carts, 9);
    expect(pc.netRevenuePerCartLift.estimate).toBeCloseTo(sp.net / sp.carts - fr.net / fr.carts, 6);
    expect(pc.incrementalNetRevenue.estimate).toBeCloseTo((sp.net / sp.carts - fr.net / fr.carts) * sp.carts, 4);
    // Another shop's carts (no control arm) leave the figure off.
    const none = await dashboardKpis(pool, { shopIds: [randomUUID()], from: '2000-01-01', to: '2100-12-31' });
    expect(none.policyControl).toEqual({ status: 'off' });

    // Rebuildable: a fresh rebuild of the recoveries projection gives the same rows.
    const before = await pool.query(`SELECT * FROM read.policy_arm_lift WHERE shop_id = $1 ORDER BY 2, 3`, [armShop]);
    await rebuildProjection(
      READ_MODEL_PROJECTIONS.find((p) => p.name === 'recoveries')!,
      { store, pool, vault },
    );
    const after = await pool.query(`SELECT * FROM read.policy_arm_lift WHERE shop_id = $1 ORDER BY 2, 3`, [armShop]);
    expect(after.rows).toEqual(before.rows);
  });

  describe('the reclaim_analyst role (R20)', () => {
    let analyst: Client;
    beforeAll(async () => {
      analyst = new Client({ connectionString: db.url });
      await analyst.connect();
      await analyst.query('SET ROLE reclaim_analyst');
    });
    afterAll(async () => {
      await analyst?.end();
    });

    const refused = async (sql: string) => {
      await analyst.query('SAVEPOINT s').catch(() => undefined);
      await expect(analyst.query(sql)).rejects.toThrow(/permission denied|must be superuser|not allowed|privilege/i);
    };

    it('reads every table and view of schema read, including tables created later', async () => {
      for (const t of ALL_TABLES) await analyst.query(`SELECT * FROM ${qualified(t)} LIMIT 1`);
      await analyst.query(`SELECT * FROM read.lift LIMIT 1`);
      await analyst.query(`SELECT email_masked, phone_masked, name_initials FROM read.customers_masked LIMIT 1`);
      await analyst.query(`SELECT * FROM read.customer_contacts LIMIT 1`);
      // Views created later are covered by the default privileges too (without an explicit grant).
      await pool.query(`CREATE VIEW read.later_view AS SELECT customer_key FROM read.customers`);
      try {
        await analyst.query(`SELECT * FROM read.later_view`);
      } finally {
        await pool.query(`DROP VIEW read.later_view`);
      }
      await pool.query(`CREATE TABLE read.later_table (id integer)`);
      try {
        await analyst.query(`SELECT * FROM read.later_table`);
      } finally {
        await pool.query(`DROP TABLE read.later_table`);
      }
    });

    it('cannot write, nor read the event, key, shop or engine tables, nor run programs or read files', async () => {
      await refused(`INSERT INTO read.carts (shop_id, cart_id, status, position) VALUES ('x', 'y', 'active', '1')`);
      await refused(`UPDATE read.recoveries SET recovered = true`);
      await refused(`DELETE FROM read.messages`);
      await refused(`TRUNCATE read.carts`);
      await refused(`CREATE TABLE read.mine (id integer)`);
      await refused(`SELECT * FROM event_store.events LIMIT 1`);
      await refused(`SELECT * FROM event_store.subscription_checkpoints LIMIT 1`);
      await refused(`SELECT * FROM privacy.subject_keys LIMIT 1`);
      await refused(`SELECT * FROM app.shops LIMIT 1`);
      await refused(`SELECT * FROM engine.outbox LIMIT 1`);
      await refused(`SELECT * FROM engine.timers LIMIT 1`);
      await refused(`COPY (SELECT 1) TO PROGRAM 'true'`);
      await refused(`SELECT pg_read_file('/etc/hostname')`);
      await refused(`CREATE TABLE public.mine (id integer)`);
    });
  });
});
