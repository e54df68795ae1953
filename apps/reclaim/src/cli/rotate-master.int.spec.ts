import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { SecretBox, ShopRegistry } from '@reclaim/application';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { loadIdentityRoot, MasterKeyring, parseKeyFile, PersonalDataVault, readKeyFileSync } from '@reclaim/privacy';
import type { SealedValue } from '@reclaim/domain';
import { rotateMasterKey } from './rotate-master';

/** `keys rotate-master` against a real database and key file, interrupted and resumed. */
describe('master-key rotation (online, resumable)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_rotate');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await PersonalDataVault.migrate(pool);
    await ShopRegistry.migrate(pool);
    dir = await mkdtemp(join(tmpdir(), 'reclaim-rotate-'));
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** An appliance instance as the runtime builds it: keys from the file, re-read when they change. */
  async function instance(keyFile: string) {
    const keys = parseKeyFile(await readFile(keyFile, 'utf8'), keyFile);
    const ring = new MasterKeyring(keys, () => readKeyFileSync(keyFile), 0, 0);
    const identityRoot = await loadIdentityRoot(pool, ring);
    return {
      ring,
      vault: new PersonalDataVault(pool, ring, { identityRoot, cacheTtlMs: 0 }),
      shops: new ShopRegistry(pool, new SecretBox(ring)),
    };
  }

  it('re-wraps customer keys and shop secrets; both keys work until it finishes; resumes after an interruption', async () => {
    const oldKey = randomBytes(32);
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, `${oldKey.toString('base64')}\n`, { mode: 0o600 });
    const running = await instance(keyFile);
    const shopId = '2b7c9e1a-5d4f-4a3b-9c8d-7e6f5a4b3c2d';
    const sealed: SealedValue[] = [];
    for (let i = 0; i < 30; i++) sealed.push(await running.vault.seal(shopId, `e-${i}`, { n: i }));
    const { shop } = await running.shops.register({
      platform: 'shopify',
      shopDomain: 'rotate.myshopify.com',
      webhookSecret: 'whsec-rotate',
      apiUrl: 'https://rotate.myshopify.com/admin/api/2025-01',
      apiToken: 'shpat-rotate',
      currency: 'USD',
      timezone: 'UTC',
    });
    const customerKey = running.vault.subjectFor(shopId, { email: 'ada@example.com' });

    // First run, interrupted after its first batch (as Ctrl-C or kill -9 between two transactions would).
    const newKey = randomBytes(32);
    const abort = new AbortController();
    const first = await rotateMasterKey(
      { pool, vault: running.vault, shops: running.shops, ring: running.ring, keyFile },
      {
        newKey,
        batchSize: 8,
        graceMs: 0,
        signal: abort.signal,
        onProgress: () => abort.abort(),
      },
    );
    expect(first).toEqual({ status: 'interrupted', remaining: expect.any(Number) });
    if (first.status !== 'interrupted') throw new Error('unreachable');
    expect(first.remaining).toBeGreaterThan(0);
    // The key file holds both keys, new first; every value opens, whichever key wraps it.
    const file = parseKeyFile(await readFile(keyFile, 'utf8'), keyFile);
    expect(file.current.equals(newKey)).toBe(true);
    expect(file.previous?.map((k) => k.toString('hex'))).toEqual([oldKey.toString('hex')]);
    const meanwhile = await instance(keyFile);
    expect(await Promise.all(sealed.map((s) => meanwhile.vault.open(shopId, s)))).toEqual(
      sealed.map((_, i) => ({ n: i })),
    );
    expect((await meanwhile.shops.get(shop.id))?.webhookSecrets(new Date())).toEqual(['whsec-rotate']);
    // The running instance picked up the new key without a restart: new keys are wrapped with it.
    expect(running.ring.current.id).toBe(meanwhile.ring.current.id);

    // Resumed: finishes, and the file keeps only the new key.
    const second = await rotateMasterKey(
      { pool, vault: meanwhile.vault, shops: meanwhile.shops, ring: meanwhile.ring, keyFile },
      { batchSize: 8, graceMs: 0 },
    );
    expect(second).toMatchObject({ status: 'done', shops: 1, roots: 1 });
    const after = parseKeyFile(await readFile(keyFile, 'utf8'), keyFile);
    expect(after.current.equals(newKey)).toBe(true);
    expect(after.previous).toEqual([]);

    // Only the new key is needed now; customer keys did not change; the old key alone opens nothing.
    const onlyNew = new MasterKeyring(newKey);
    const identityRoot = await loadIdentityRoot(pool, onlyNew);
    const vault = new PersonalDataVault(pool, onlyNew, { identityRoot });
    expect(await Promise.all(sealed.map((s) => vault.open(shopId, s)))).toEqual(sealed.map((_, i) => ({ n: i })));
    expect(vault.subjectFor(shopId, { email: 'ada@example.com' })).toBe(customerKey);
    const shops = new ShopRegistry(pool, new SecretBox(onlyNew));
    expect((await shops.get(shop.id))?.apiToken).toBe('shpat-rotate');
    await expect(loadIdentityRoot(pool, new MasterKeyring(oldKey))).rejects.toThrow('wrong master key');
    expect((await shops.rewrapSecrets()).remaining).toBe(0);
  });
});
