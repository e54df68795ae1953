import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { MasterKeyring } from './master-keyring';
import { PersonalDataVault, SealedValueTamperedError } from './personal-data-vault';

const shopA = '4f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const shopB = '9b2d7e61-0c3a-4e8f-8d1b-5a6c7e8f9a0b';

describe('PersonalDataVault (Postgres)', () => {
  let db: TestDatabase;
  let pool: Pool;
  const master = randomBytes(32);

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_privacy');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await Promise.all([PersonalDataVault.migrate(pool), PersonalDataVault.migrate(pool)]);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const countKeys = async (shopId: string, subject?: string): Promise<number> => {
    const r = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM privacy.subject_keys WHERE shop_id = $1 AND ($2::text IS NULL OR subject = $2)',
      [shopId, subject ?? null],
    );
    return Number(r.rows[0].n);
  };

  it('round-trips emoji, right-to-left, zero-width and 5 KB strings exactly', async () => {
    const vault = new PersonalDataVault(pool, master);
    const value = {
      email: 'zoë+tag@bücher.example',
      firstName: '👩🏽‍💻 Zoë',
      lastName: 'مرحبا بالعالم',
      address: `a\u200bb\u200dc ${'长'.repeat(5 * 1024)}`,
      phone: '+14155552671',
    };
    const sealed = await vault.seal(shopA, 'e-roundtrip', value);
    // A 5 KB value is deflated before encryption.
    expect(sealed).toMatchObject({ $sealed: 'deflate+aes-256-gcm/v2', subject: 'e-roundtrip' });
    expect(sealed.key).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(sealed)).not.toContain('bücher');
    expect(await vault.open(shopA, sealed)).toEqual(value);
    expect(await new PersonalDataVault(pool, master).open(shopA, sealed)).toEqual(value);
    expect(await vault.open(shopA, await vault.seal(shopA, 'e-roundtrip', 'plain'))).toBe('plain');
  });

  it('uses a fresh IV for every seal', async () => {
    const vault = new PersonalDataVault(pool, master);
    const a = await vault.seal(shopA, 'e-iv', 'same');
    const b = await vault.seal(shopA, 'e-iv', 'same');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('detects tampering and values moved to another shop or subject', async () => {
    const vault = new PersonalDataVault(pool, master);
    const sealed = await vault.seal(shopA, 'e-tamper', { email: 'a@b.co' });
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] ^= 1;
    await expect(vault.open(shopA, { ...sealed, ct: ct.toString('base64') })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    const tag = Buffer.from(sealed.tag, 'base64');
    tag[15] ^= 0x80;
    await expect(vault.open(shopA, { ...sealed, tag: tag.toString('base64') })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    // Moved to another shop or subject: that subject's key has another id, so the value names a key
    // that is not there (reads as erased); made to name that subject's key, it fails authentication.
    const inB = await vault.seal(shopB, 'e-tamper', 'x');
    expect(await vault.open(shopB, sealed)).toBeNull();
    await expect(vault.open(shopB, { ...sealed, key: inB.key })).rejects.toBeInstanceOf(SealedValueTamperedError);
    const other = await vault.seal(shopA, 'e-other', 'x');
    await expect(vault.open(shopA, { ...sealed, subject: 'e-other', key: other.key })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    await expect(vault.open(shopA, { ...sealed, $sealed: 'rot13' } as never)).rejects.toThrow('Not a sealed value');
  });

  it('deflates large values only, and refuses a value whose algorithm was swapped', async () => {
    const vault = new PersonalDataVault(pool, master);
    const small = await vault.seal(shopA, 'e-zip', { note: 'short' });
    const large = await vault.seal(shopA, 'e-zip', { note: 'repetitive '.repeat(400) });
    expect(small.$sealed).toBe('aes-256-gcm/v2');
    expect(large.$sealed).toBe('deflate+aes-256-gcm/v2');
    expect(Buffer.from(large.ct, 'base64').length).toBeLessThan(400);
    expect(await vault.open(shopA, large)).toEqual({ note: 'repetitive '.repeat(400) });
    await expect(vault.open(shopA, { ...large, $sealed: 'aes-256-gcm/v2' })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    await expect(vault.open(shopA, { ...small, $sealed: 'deflate+aes-256-gcm/v2' })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    // A v2 value passed off as v1 (its key id dropped) is not a well-formed sealed value at all.
    await expect(vault.open(shopA, { ...small, $sealed: 'aes-256-gcm/v1' })).rejects.toThrow('Not a sealed value');
  });

  it('shredding makes earlier sealed values unreadable, in this and other processes', async () => {
    const vault = new PersonalDataVault(pool, master);
    const other = new PersonalDataVault(pool, master, { cacheTtlMs: 0 });
    const sealed = await vault.seal(shopA, 'e-shred', { email: 'gone@example.com' });
    expect(await vault.open(shopA, sealed)).toEqual({ email: 'gone@example.com' });
    expect(await other.open(shopA, sealed)).toEqual({ email: 'gone@example.com' });
    expect(await vault.shred(shopA, ['e-shred', 'e-never-existed'])).toBe(1);
    expect(await vault.open(shopA, sealed)).toBeNull();
    expect(await other.open(shopA, sealed)).toBeNull();
    // A new seal creates a new key; the old value stays unreadable and reads as erased, not tampered.
    const again = await vault.seal(shopA, 'e-shred', 'new');
    expect(await vault.open(shopA, again)).toBe('new');
    expect(await vault.open(shopA, sealed)).toBeNull();
    expect(await other.open(shopA, sealed)).toBeNull();
  });

  it('shredShop removes every key of one shop and no other', async () => {
    const vault = new PersonalDataVault(pool, master);
    const a1 = await vault.seal(shopA, 'e-shop-1', 1);
    const a2 = await vault.seal(shopA, 't-shop-2', 2);
    const b1 = await vault.seal(shopB, 'e-shop-1', 3);
    expect(await vault.shredShop(shopA)).toBeGreaterThanOrEqual(2);
    expect(await vault.open(shopA, a1)).toBeNull();
    expect(await vault.open(shopA, a2)).toBeNull();
    expect(await vault.open(shopB, b1)).toBe(3);
    expect(await countKeys(shopA)).toBe(0);
  });

  it('concurrent seals of one new subject, in two processes, produce one key', async () => {
    const p1 = new PersonalDataVault(pool, master);
    const p2 = new PersonalDataVault(pool, master);
    const subject = `e-race-${randomBytes(4).toString('hex')}`;
    const sealed = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? p1 : p2).seal(shopA, subject, { i })),
    );
    expect(await countKeys(shopA, subject)).toBe(1);
    for (const [i, s] of sealed.entries()) {
      expect(await p1.open(shopA, s)).toEqual({ i });
      expect(await p2.open(shopA, s)).toEqual({ i });
    }
  });

  it('coalesces concurrent seals of many new subjects into few round trips', async () => {
    const vault = new PersonalDataVault(pool, master);
    const spy = jest.spyOn(pool, 'query');
    const subjects = Array.from({ length: 300 }, (_, i) => `e-batch-${i}`);
    const sealed = await Promise.all(subjects.map((s) => vault.seal(shopB, s, s)));
    // One SELECT and one INSERT for the whole batch, not one per subject.
    expect(spy.mock.calls.length).toBeLessThanOrEqual(3);
    spy.mockClear();
    await Promise.all(sealed.map((s) => vault.seal(shopB, s.subject, 'cached')));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(await vault.open(shopB, sealed[299])).toBe('e-batch-299');
  });

  it('loads stored keys and creates the missing ones of a batch in one statement', async () => {
    const first = new PersonalDataVault(pool, master);
    const stored = await Promise.all(
      Array.from({ length: 50 }, (_, i) => first.seal(shopB, `e-mixed-${i}`, `old ${i}`)),
    );
    const vault = new PersonalDataVault(pool, master); // cold cache: 50 stored keys, 50 new subjects
    const spy = jest.spyOn(pool, 'query');
    const sealed = await Promise.all(
      Array.from({ length: 100 }, (_, i) => vault.seal(shopB, `e-mixed-${i}`, `new ${i}`)),
    );
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(await countKeys(shopB)).toBeGreaterThanOrEqual(100);
    // The stored keys were used, not replaced: old and new values open with both vaults.
    for (let i = 0; i < 50; i++) {
      expect(sealed[i].key).toBe(stored[i].key);
      expect(await first.open(shopB, sealed[i])).toBe(`new ${i}`);
      expect(await vault.open(shopB, stored[i])).toBe(`old ${i}`);
    }
    for (let i = 50; i < 100; i++) expect(await first.open(shopB, sealed[i])).toBe(`new ${i}`);
  });

  it('uses the key another process stored after its statement began, never its own', async () => {
    const vault = new PersonalDataVault(pool, master);
    const subject = `e-late-${randomBytes(4).toString('hex')}`;
    // The other process's key insert, held open: our statement's snapshot cannot see it, and our insert waits on it.
    const blocker = await pool.connect();
    try {
      await blocker.query('BEGIN');
      const other = new PersonalDataVault(blocker as unknown as Pool, master);
      const theirs = await other.seal(shopA, subject, 'theirs');
      const sealing = vault.seal(shopA, subject, 'mine');
      await new Promise((r) => setTimeout(r, 200));
      await blocker.query('COMMIT');
      const sealed = await sealing;
      expect(sealed.key).toBe(theirs.key);
      expect(await countKeys(shopA, subject)).toBe(1);
      expect(await vault.open(shopA, theirs)).toBe('theirs');
      expect(await new PersonalDataVault(pool, master).open(shopA, sealed)).toBe('mine');
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('with deferKeyFlush, commits new keys without waiting for the flush, and only those statements', async () => {
    const one = new Pool({ connectionString: db.url, max: 1 });
    try {
      const vault = new PersonalDataVault(one, master, { deferKeyFlush: true });
      const sealed = await vault.seal(shopA, `e-deferred-${randomBytes(4).toString('hex')}`, 'v');
      expect(await countKeys(shopA, sealed.subject)).toBe(1);
      expect(await new PersonalDataVault(pool, master).open(shopA, sealed)).toBe('v');
      // The setting was local to the key statement's transaction: the connection is back to the server's.
      const { rows } = await one.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(rows[0].synchronous_commit).toBe(
        (await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0].synchronous_commit,
      );
    } finally {
      await one.end();
    }
  });

  it('invalidates its cache on shred even when the key was cached', async () => {
    const vault = new PersonalDataVault(pool, master, { cacheTtlMs: 60 * 60_000 });
    const sealed = await vault.seal(shopA, 'e-cached', 'v');
    expect(await vault.open(shopA, sealed)).toBe('v');
    const spy = jest.spyOn(pool, 'query');
    expect(await vault.open(shopA, sealed)).toBe('v');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    await vault.shred(shopA, ['e-cached']);
    expect(await vault.open(shopA, sealed)).toBeNull();
  });

  it('opening a value of a subject that never had a key creates nothing', async () => {
    const vault = new PersonalDataVault(pool, master);
    const sealed = await new PersonalDataVault(pool, master).seal(shopB, 'e-temp', 'v');
    await vault.shred(shopB, ['e-temp']);
    expect(await vault.open(shopB, sealed)).toBeNull();
    expect(await countKeys(shopB, 'e-temp')).toBe(0);
  });

  it('refuses to unwrap keys with another master key', async () => {
    const sealed = await new PersonalDataVault(pool, master).seal(shopA, 'e-master', 'v');
    await expect(new PersonalDataVault(pool, randomBytes(32)).open(shopA, sealed)).rejects.toThrow('wrong master key');
  });

  it('derives customer keys without personal data in clear', async () => {
    const vault = new PersonalDataVault(pool, master);
    const email = 'Zoë.Smith@Bücher.Example';
    const key = vault.subjectFor(shopA, { email: `  ${email} `, phone: '+14155552671', platformCustomerId: '42' });
    expect(key).toMatch(/^e-[0-9a-f]{32}$/);
    expect(vault.subjectFor(shopA, { email: email.toLowerCase() })).toBe(key);
    expect(new PersonalDataVault(pool, master).subjectFor(shopA, { email })).toBe(key);
    expect(vault.subjectFor(shopB, { email })).not.toBe(key);
    expect(new PersonalDataVault(pool, randomBytes(32)).subjectFor(shopA, { email })).not.toBe(key);
    expect(vault.subjectFor(shopA, { phone: '+14155552671' })).toMatch(/^t-[0-9a-f]{32}$/);
    expect(vault.subjectFor(shopA, { phone: '415 555 2671', platformCustomerId: '9007199254740993' })).toBe(
      'p-9007199254740993',
    );
    expect(vault.subjectFor(shopA, {})).toBeUndefined();
    const all = vault.customerKeysFor(shopA, { email, phone: '+14155552671', platformCustomerId: '42' });
    expect(all.map((k) => k.slice(0, 2))).toEqual(['e-', 't-', 'p-']);
    for (const k of all) {
      expect(k.toLowerCase()).not.toContain('zo');
      expect(k).not.toContain('4155552671');
    }
    await vault.seal(shopA, key as string, { email });
    const stored = await pool.query<{ subject: string; wrapped_key: Buffer }>(
      'SELECT subject, wrapped_key FROM privacy.subject_keys WHERE shop_id = $1',
      [shopA],
    );
    for (const row of stored.rows) {
      expect(row.subject.toLowerCase()).not.toContain('smith');
      expect(row.wrapped_key.toString('latin1')).not.toContain('Smith');
    }
  });

  describe('keys with identity (a customer redacted, then back)', () => {
    it('reads values sealed under a shredded key as erased after the subject got a new key, everywhere', async () => {
      const writer = new PersonalDataVault(pool, master);
      const reader = new PersonalDataVault(pool, master, { cacheTtlMs: 60 * 60_000 });
      const before = await writer.seal(shopA, 'e-back', { email: 'back@example.com' });
      expect(await reader.open(shopA, before)).toEqual({ email: 'back@example.com' }); // reader caches the old key
      await writer.shred(shopA, ['e-back']);
      const after = await writer.seal(shopA, 'e-back', { email: 'back@example.com' });
      expect(after.key).not.toBe(before.key);
      // The reader's cache still holds the shredded key (up to its TTL, as documented); the first
      // value naming the new key makes it re-read the table, and the old value then reads as erased.
      for (const vault of [writer, reader, new PersonalDataVault(pool, master)]) {
        expect(await vault.open(shopA, after)).toEqual({ email: 'back@example.com' });
        expect(await vault.open(shopA, before)).toBeNull();
      }
    });

    it('still fails loudly on real tampering under the current key', async () => {
      const vault = new PersonalDataVault(pool, master);
      const sealed = await vault.seal(shopA, 'e-tamper-v2', 'value');
      const ct = Buffer.from(sealed.ct, 'base64');
      ct[0] ^= 1;
      await expect(vault.open(shopA, { ...sealed, ct: ct.toString('base64') })).rejects.toBeInstanceOf(
        SealedValueTamperedError,
      );
      // The key id is authenticated too: naming the current key on a foreign value is tampering.
      const other = await vault.seal(shopA, 'e-tamper-other', 'value');
      await expect(vault.open(shopA, { ...other, subject: 'e-tamper-v2', key: sealed.key })).rejects.toBeInstanceOf(
        SealedValueTamperedError,
      );
    });

    it('opens values and keys written before keys had ids (v1), and erases them the same way', async () => {
      // A key row and a value exactly as the previous version wrote them.
      const dataKey = randomBytes(32);
      const wrapKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'reclaim/key-wrap/v1', 32));
      const wiv = randomBytes(12);
      const w = createCipheriv('aes-256-gcm', wrapKey, wiv);
      w.setAAD(Buffer.from(`reclaim/subject-key/v1\u0000${shopA}\u0000e-legacy`));
      const wct = Buffer.concat([w.update(dataKey), w.final()]);
      await pool.query(`INSERT INTO privacy.subject_keys (shop_id, subject, wrapped_key) VALUES ($1, 'e-legacy', $2)`, [
        shopA,
        Buffer.concat([Buffer.from([1]), wiv, w.getAuthTag(), wct]),
      ]);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', dataKey, iv);
      c.setAAD(Buffer.from(`reclaim/sealed/v1\u0000${shopA}\u0000e-legacy`));
      const ct = Buffer.concat([c.update('"old"'), c.final()]);
      const old = {
        $sealed: 'aes-256-gcm/v1' as const,
        subject: 'e-legacy',
        iv: iv.toString('base64'),
        ct: ct.toString('base64'),
        tag: c.getAuthTag().toString('base64'),
      };
      const vault = new PersonalDataVault(pool, master);
      expect(await vault.open(shopA, old)).toBe('old');
      // The legacy key keeps sealing v1 values, which open as before.
      const more = await vault.seal(shopA, 'e-legacy', 'more');
      expect(more).toMatchObject({ $sealed: 'aes-256-gcm/v1' });
      expect(more.key).toBeUndefined();
      expect(await vault.open(shopA, more)).toBe('more');
      await vault.shred(shopA, ['e-legacy']);
      const fresh = await vault.seal(shopA, 'e-legacy', 'new');
      expect(fresh.key).toMatch(/^[0-9a-f]{16}$/);
      expect(await vault.open(shopA, old)).toBeNull();
      expect(await new PersonalDataVault(pool, master).open(shopA, more)).toBeNull();
      expect(await vault.open(shopA, fresh)).toBe('new');
    });
  });

  describe('master-key rotation', () => {
    it('re-wraps every subject key in batches; old and new master keys both open them meanwhile; resumable', async () => {
      const oldKey = randomBytes(32);
      const newKey = randomBytes(32);
      const shop = '0e5d1c2b-3a4f-4b6c-8d7e-9f0a1b2c3d4e';
      await pool.query('DELETE FROM privacy.subject_keys'); // rotation covers the whole table: start from this test's keys only
      const before = new PersonalDataVault(pool, oldKey);
      const sealed = await Promise.all(Array.from({ length: 25 }, (_, i) => before.seal(shop, `e-rot-${i}`, i)));
      const both = new MasterKeyring({ current: newKey, previous: [oldKey] });
      const rotating = new PersonalDataVault(pool, both, { identityRoot: oldKey });
      const notCurrent = async () => rotating.countNotCurrent();
      const initially = await notCurrent();
      expect(initially).toBeGreaterThanOrEqual(25);
      // Interrupted after one small batch: the rest is still wrapped with the old key.
      const first = await rotating.rewrapBatch(10);
      expect(first.rewrapped).toBe(10);
      expect(first.remaining).toBe(initially - 10);
      // Meanwhile a vault that knows both keys opens every value; one knowing only the old key fails loudly on the re-wrapped ones.
      const fresh = new PersonalDataVault(pool, both, { identityRoot: oldKey });
      expect(await Promise.all(sealed.map((s) => fresh.open(shop, s)))).toEqual(sealed.map((_, i) => i));
      // Resumed until done.
      let progress = first;
      while (progress.remaining > 0) progress = await rotating.rewrapBatch(10);
      expect(await notCurrent()).toBe(0);
      // Only the new key is needed now, and customer keys did not change (identity root).
      const after = new PersonalDataVault(pool, newKey, { identityRoot: oldKey });
      expect(await Promise.all(sealed.map((s) => after.open(shop, s)))).toEqual(sealed.map((_, i) => i));
      expect(after.subjectFor(shop, { email: 'a@b.c' })).toBe(before.subjectFor(shop, { email: 'a@b.c' }));
      await expect(new PersonalDataVault(pool, oldKey).open(shop, sealed[0])).rejects.toThrow('wrong master key');
    });
  });
});
