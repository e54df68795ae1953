import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
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
    expect(sealed).toMatchObject({ $sealed: 'deflate+aes-256-gcm/v1', subject: 'e-roundtrip' });
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
    await vault.seal(shopB, 'e-tamper', 'x');
    await expect(vault.open(shopB, sealed)).rejects.toBeInstanceOf(SealedValueTamperedError);
    await vault.seal(shopA, 'e-other', 'x');
    await expect(vault.open(shopA, { ...sealed, subject: 'e-other' })).rejects.toBeInstanceOf(SealedValueTamperedError);
    await expect(vault.open(shopA, { ...sealed, $sealed: 'rot13' } as never)).rejects.toThrow('Not a sealed value');
  });

  it('deflates large values only, and refuses a value whose algorithm was swapped', async () => {
    const vault = new PersonalDataVault(pool, master);
    const small = await vault.seal(shopA, 'e-zip', { note: 'short' });
    const large = await vault.seal(shopA, 'e-zip', { note: 'repetitive '.repeat(400) });
    expect(small.$sealed).toBe('aes-256-gcm/v1');
    expect(large.$sealed).toBe('deflate+aes-256-gcm/v1');
    expect(Buffer.from(large.ct, 'base64').length).toBeLessThan(400);
    expect(await vault.open(shopA, large)).toEqual({ note: 'repetitive '.repeat(400) });
    await expect(vault.open(shopA, { ...large, $sealed: 'aes-256-gcm/v1' })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
    await expect(vault.open(shopA, { ...small, $sealed: 'deflate+aes-256-gcm/v1' })).rejects.toBeInstanceOf(
      SealedValueTamperedError,
    );
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
    // A new seal creates a new key; the old value stays unreadable.
    const again = await vault.seal(shopA, 'e-shred', 'new');
    expect(await vault.open(shopA, again)).toBe('new');
    await expect(vault.open(shopA, sealed)).rejects.toBeInstanceOf(SealedValueTamperedError);
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
});
