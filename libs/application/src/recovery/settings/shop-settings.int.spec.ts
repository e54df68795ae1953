import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { defaultSequences, recoveryConfig } from '@reclaim/domain';
import { migrateRecoveryEngine } from '../schema';
import { PostgresSequenceRepository } from '../sequences/sequence-repository';
import { PostgresShopSettings } from './shop-settings';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The settings cache: bounded, and dropped on the table's change notifications whoever writes. */
describe('PostgresShopSettings cache', () => {
  let db: TestDatabase;
  let pool: Pool;
  const base = recoveryConfig({ holdoutPercent: 10 });
  const abort = new AbortController();
  const following: Promise<void>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_shop_settings');
    pool = new Pool({ connectionString: db.url, max: 6 });
    await migrateRecoveryEngine(pool);
    await migrateRecoveryEngine(pool); // idempotent (the trigger too)
  });

  afterAll(async () => {
    abort.abort();
    await Promise.all(following);
    await pool?.end();
    await db?.drop();
  });

  const listening = async (s: PostgresShopSettings) => {
    following.push(s.follow(abort.signal, 50));
    await until(async () => s.isListening, 'the listener');
  };
  const holdout = async (s: PostgresShopSettings, shop: string) => (await s.forShop(shop)).config.holdoutPercent;
  const write = (shop: string, holdoutPercent: number) =>
    pool.query(
      `INSERT INTO engine.shop_settings (shop_id, settings) VALUES ($1, $2)
       ON CONFLICT (shop_id) DO UPDATE SET settings = EXCLUDED.settings`,
      [shop, JSON.stringify({ holdoutPercent })],
    );

  it('keeps an entry while listening (no TTL), and drops it when the row changes by any writer', async () => {
    // cacheMs 1: only the notification can explain a fresh value; only the listener can explain a kept one.
    const s = new PostgresShopSettings(pool, base, {}, { cacheMs: 1 });
    await listening(s);
    await write('shop-a', 20);
    await sleep(50); // the insert's own notification arrives before anything is cached
    expect(await holdout(s, 'shop-a')).toBe(20);
    const loads = s.stats.loads;
    await sleep(20);
    expect(await holdout(s, 'shop-a')).toBe(20);
    expect(s.stats.loads).toBe(loads); // served from the cache past cacheMs

    await write('shop-a', 30); // plain SQL, not save(): only the trigger tells
    await until(async () => (await holdout(s, 'shop-a')) === 30, 'the change to be seen');
    expect(s.stats.invalidations).toBeGreaterThan(0);

    await pool.query(`DELETE FROM engine.shop_settings WHERE shop_id = 'shop-a'`);
    await until(async () => (await holdout(s, 'shop-a')) === 10, 'the delete to be seen');
  });

  it("sees another instance's save, and a TRUNCATE drops every entry", async () => {
    const a = new PostgresShopSettings(pool, base);
    const b = new PostgresShopSettings(pool, base);
    await listening(a);
    expect(await holdout(a, 'shop-b')).toBe(10);
    expect(await holdout(a, 'shop-c')).toBe(10);
    await b.save('shop-b', { holdoutPercent: 40 });
    await until(async () => (await holdout(a, 'shop-b')) === 40, "the other instance's save");
    await write('shop-c', 50);
    await until(async () => (await holdout(a, 'shop-c')) === 50, 'the write');
    await pool.query('TRUNCATE engine.shop_settings');
    await until(async () => a.size === 0, 'the truncate to empty the cache');
    expect(await holdout(a, 'shop-b')).toBe(10);
  });

  it('without a listener trusts an entry for cacheMs only', async () => {
    const s = new PostgresShopSettings(pool, base, {}, { cacheMs: 30 });
    await write('shop-d', 60);
    expect(await holdout(s, 'shop-d')).toBe(60);
    await write('shop-d', 70);
    expect(await holdout(s, 'shop-d')).toBe(60); // within cacheMs, nobody told it
    await sleep(40);
    expect(await holdout(s, 'shop-d')).toBe(70);
  });

  it('is bounded (least recently used out) and loads a batch of shops in one query', async () => {
    const s = new PostgresShopSettings(pool, base, {}, { maxEntries: 2 });
    await listening(s);
    await write('shop-e', 15);
    await sleep(50); // a load that races with a notification is (rightly) not kept
    const queries: string[] = [];
    const spy = jest.spyOn(pool, 'query');
    try {
      const pms = await s.forShops(['shop-e', 'shop-f', 'shop-g', 'shop-e']);
      queries.push(...spy.mock.calls.map((c) => String(c[0])));
      expect([...pms.keys()].sort()).toEqual(['shop-e', 'shop-f', 'shop-g']);
      expect(pms.get('shop-e')!.config.holdoutPercent).toBe(15);
      expect(queries).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    expect(s.size).toBe(2);
    await s.forShop('shop-g'); // the most recent stays
    const loads = s.stats.loads;
    await s.forShop('shop-g');
    expect(s.stats.loads).toBe(loads);
    await s.forShop('shop-e'); // evicted earlier: loaded again
    expect(s.stats.loads).toBe(loads + 1);
  });

  it("keeps each shop's current sequence catalogue: a save here drops it at once, one elsewhere by its NOTIFY", async () => {
    const here = new PostgresShopSettings(pool, base, {}, { cacheMs: 60_000 });
    const there = new PostgresShopSettings(pool, base, {}, { cacheMs: 60_000 });
    await listening(here);
    const sequencesHere = new PostgresSequenceRepository(pool, base, here);
    const sequencesThere = new PostgresSequenceRepository(pool, base, there);
    const before = await sequencesHere.currentMany(['shop-q', 'shop-r']);
    expect(before.get('shop-q')).toEqual(defaultSequences(base));
    const loads = here.stats.loads;
    expect((await sequencesHere.current('shop-q')).version).toBe(1); // cached
    expect(here.stats.loads).toBe(loads);
    const saved = await sequencesThere.save(
      'shop-q',
      defaultSequences(base).sequences.filter((s) => s.id === 'welcome'),
    );
    expect(saved.version).toBe(2);
    expect((await sequencesThere.current('shop-q')).version).toBe(2); // its own save: dropped at once
    await until(async () => (await sequencesHere.current('shop-q')).version === 2, "the other instance's save");
    expect((await sequencesHere.current('shop-r')).version).toBe(1);
    // Uncached, the repository reads the latest version of several shops in one query.
    const plain = new PostgresSequenceRepository(pool, base);
    const both = await plain.currentMany(['shop-q', 'shop-r']);
    expect([both.get('shop-q')?.version, both.get('shop-r')?.version]).toEqual([2, 1]);
  });
});
