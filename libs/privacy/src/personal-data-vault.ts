import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  isE164,
  isSealedValue,
  SEALED_VALUE_ALGORITHM,
  SEALED_VALUE_ALGORITHM_DEFLATE,
  SEALED_VALUE_ALGORITHM_DEFLATE_V2,
  SEALED_VALUE_ALGORITHM_V2,
  type SealedValue,
} from '@reclaim/domain';
import { BoundedLru } from './lru';
import {
  MasterKeyring,
  UnknownMasterKeyError,
  UnwrapError,
  unwrapBytes,
  wrapBytes,
  wrappedWith,
} from './master-keyring';
import { inTransaction } from '@reclaim/database/transaction';

/**
 * Personal data protection by crypto-shredding (R29).
 *
 * Every subject (normally a customer key) of a shop has its own random 32-byte data key with a
 * random id, stored in `privacy.subject_keys` wrapped (AES-256-GCM) with a key derived from the
 * master key (the wrapped form names the master key: see `MasterKeyring`). Personal data is
 * sealed with the subject's data key before it enters an event, and the sealed value names the
 * key id; deleting the subject's key makes every sealed copy unreadable, in the immutable log
 * too. A subject that comes back after being shredded gets a new key with a new id, so what was
 * sealed under the shredded key reads as erased (`null`), never as tampered.
 *
 * Hot path (`seal`, ~2,000/s): a cache hit costs one AES-GCM encryption. Misses are coalesced:
 * all keys requested while a batch is pending are loaded, and the missing ones created, by one
 * statement (`INSERT … ON CONFLICT DO NOTHING` of fresh keys with the stored ones read alongside);
 * one created meanwhile by another process is re-selected, so processes racing to create one
 * subject's key agree on the single stored key.
 */
export interface PersonalDataVaultOptions {
  /** Maximum number of unwrapped data keys kept in memory. Default 20,000 (≈ 1.4 KB each: ≈ 28 MB). */
  readonly cacheSize?: number;
  /**
   * How long a data key stays cached. A shred in this process invalidates at once; another
   * process's cache forgets the key at the latest after this time. Default 5 minutes.
   */
  readonly cacheTtlMs?: number;
  /** Largest number of subjects loaded or created in one round trip. Default 500. */
  readonly maxBatch?: number;
  /**
   * The secret customer keys (peppers) are derived from. Default: the current master key. The
   * appliance passes its stable identity root (`loadIdentityRoot`) so customer keys survive a
   * master-key rotation.
   */
  readonly identityRoot?: Buffer;
  /**
   * Commit new subject keys without waiting for their WAL flush (`synchronous_commit = off` for
   * that statement only). Safe only when everything sealed with a key is stored in the same
   * PostgreSQL cluster by a synchronous commit, as the appliance's PostgreSQL event store does: that
   * later commit's WAL record comes after the key's, so flushing it flushes the key too, and a key
   * lost in a crash was used by nothing that survived it. Not with EventStoreDB. Default false (each
   * new key is durable on its own before anything is sealed with it).
   */
  readonly deferKeyFlush?: boolean;
}

export interface CustomerIdentifiers {
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly platformCustomerId?: string | null;
}

/** The sealed value failed authentication: it was altered, or it belongs to another shop or subject. */
export class SealedValueTamperedError extends Error {
  constructor() {
    super('Sealed value failed authentication (tampered, or sealed for another shop or subject)');
    this.name = 'SealedValueTamperedError';
  }
}

/** Key id of every key created before keys had ids: sealed values without `key` (v1) name it. */
export const LEGACY_KEY_ID = 'v1';
const WRAP_INFO = 'reclaim/key-wrap/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A subject's live data key and its id. */
interface SubjectKey {
  readonly id: string;
  readonly key: Buffer;
}

interface PendingKey {
  readonly shopId: string;
  readonly subject: string;
  create: boolean;
  readonly promise: Promise<SubjectKey | null>;
  resolve(key: SubjectKey | null): void;
  reject(error: unknown): void;
}

interface KeyRow {
  shop_id: string;
  subject: string;
  key_id: string;
  wrapped_key: Buffer;
}

/** Progress of a master-key rotation over the subject keys. */
export interface RewrapProgress {
  readonly rewrapped: number;
  readonly remaining: number;
}

/** Values whose JSON is at least this long are deflated before encryption. */
const COMPRESS_FROM_CHARS = 1024;
/** Fast level, 4 KiB window: webhook bodies compress as well as with the defaults at half the cost. */
const DEFLATE_OPTIONS = { level: 1, windowBits: 12, memLevel: 5 } as const;

/**
 * Random 96-bit GCM IVs drawn from a pooled buffer: one randomBytes call per 4,096 seals instead of one
 * per seal (the webhook hot path seals every delivery). Each IV is still 12 fresh random bytes.
 */
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * 4096);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

const cacheKey = (shopId: string, subject: string): string => `${shopId}\u0000${subject}`;

/**
 * Additional data: binds the shop, the subject, the key id (v2) and (for compressed values) the
 * algorithm, so none can be swapped. `keyId` undefined = the v1 layout.
 */
function aad(
  kind: 'sealed' | 'subject-key',
  shopId: string,
  subject: string,
  keyId?: string,
  deflated = false,
): Buffer {
  const head = keyId === undefined ? `reclaim/${kind}/v1` : `reclaim/${kind}/v2`;
  const id = keyId === undefined ? '' : `\u0000${keyId}`;
  return Buffer.from(`${head}\u0000${shopId}\u0000${subject}${id}${deflated ? '\u0000deflate' : ''}`, 'utf8');
}

export class PersonalDataVault {
  private readonly ring: MasterKeyring;
  private readonly pepperRoot: Buffer;
  private readonly cache: BoundedLru<string, SubjectKey>;
  /** (shop, subject, key id) of keys known to be shredded: ids are random and never reused, so this never goes stale. */
  private readonly erased = new BoundedLru<string, true>(50_000, Number.POSITIVE_INFINITY);
  private readonly peppers = new BoundedLru<string, Buffer>(10_000, Number.POSITIVE_INFINITY);
  private readonly maxBatch: number;
  private readonly deferKeyFlush: boolean;
  private queue = new Map<string, PendingKey>();
  private readonly inflight = new Map<string, PendingKey>();
  private flushScheduled = false;
  /** Bumped by every shred: batches that started before it must not re-populate the cache. */
  private generation = 0;

  constructor(
    private readonly pool: Pool,
    masterKey: Buffer | MasterKeyring,
    options: PersonalDataVaultOptions = {},
  ) {
    if (Buffer.isBuffer(masterKey) && masterKey.length !== KEY_BYTES) {
      throw new RangeError('The master key must be exactly 32 bytes');
    }
    this.ring = masterKey instanceof MasterKeyring ? masterKey : new MasterKeyring(masterKey);
    const identity = options.identityRoot ?? this.ring.current.key;
    this.pepperRoot = Buffer.from(hkdfSync('sha256', identity, Buffer.alloc(0), 'reclaim/customer-key/v1', KEY_BYTES));
    this.cache = new BoundedLru(options.cacheSize ?? 20_000, options.cacheTtlMs ?? 5 * 60_000);
    this.maxBatch = options.maxBatch ?? 500;
    this.deferKeyFlush = options.deferKeyFlush ?? false;
  }

  /** Creates the `privacy` schema and key table (idempotent, safe to run concurrently). */
  static async migrate(pool: Pool): Promise<void> {
    await inTransaction(pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('reclaim.privacy.migrate'))`);
      await client.query('CREATE SCHEMA IF NOT EXISTS privacy');
      await client.query(`
        CREATE TABLE IF NOT EXISTS privacy.subject_keys (
          shop_id text NOT NULL,
          subject text NOT NULL,
          wrapped_key bytea NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (shop_id, subject)
        )`);
      // Keys got ids: rows from before are the key 'v1' (what v1 sealed values name). An older
      // process still inserting without an id creates a 'v1' key and seals v1 values: consistent.
      await client.query(
        `ALTER TABLE privacy.subject_keys ADD COLUMN IF NOT EXISTS key_id text NOT NULL DEFAULT '${LEGACY_KEY_ID}'`,
      );
      await client.query(`COMMENT ON TABLE privacy.subject_keys IS
        'Per-subject data keys, wrapped with the master key. Deleting a row crypto-shreds that subject''s data.'`);
    });
  }

  /** Seals any JSON-serialisable value for (shop, subject), creating the subject's key when needed. */
  async seal(shopId: string, subject: string, value: unknown): Promise<SealedValue> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError('Only JSON-serialisable values can be sealed');
    checkName(shopId, 'shopId');
    checkName(subject, 'subject');
    const found = await this.keyFor(shopId, subject, true);
    if (!found) throw new Error('Subject key could not be created');
    const iv = nextIv();
    // Large values (raw webhook bodies) are compressed first: smaller events, less to encrypt and store.
    const compress = json.length >= COMPRESS_FROM_CHARS;
    const plain = compress ? deflateRawSync(Buffer.from(json, 'utf8'), DEFLATE_OPTIONS) : Buffer.from(json, 'utf8');
    const cipher = createCipheriv('aes-256-gcm', found.key, iv);
    // A key from before key ids (LEGACY_KEY_ID) still seals v1 values: their additional data has no id.
    const legacy = found.id === LEGACY_KEY_ID;
    cipher.setAAD(aad('sealed', shopId, subject, legacy ? undefined : found.id, compress));
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    const sealed = {
      $sealed: compress
        ? legacy
          ? SEALED_VALUE_ALGORITHM_DEFLATE
          : SEALED_VALUE_ALGORITHM_DEFLATE_V2
        : legacy
          ? SEALED_VALUE_ALGORITHM
          : SEALED_VALUE_ALGORITHM_V2,
      subject,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
    return legacy ? sealed : { ...sealed, key: found.id };
  }

  /**
   * Opens a sealed value. `null` when the key it was sealed with has been shredded (also when the
   * subject has a newer key since: it came back after a redaction); throws
   * {@link SealedValueTamperedError} when the value was altered or belongs to another shop.
   */
  async open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null> {
    if (!isSealedValue(sealed)) throw new TypeError('Not a sealed value');
    checkName(shopId, 'shopId');
    const keyId = sealed.key ?? LEGACY_KEY_ID;
    const erasedKey = `${cacheKey(shopId, sealed.subject)}\u0000${keyId}`;
    if (this.erased.get(erasedKey)) return null;
    let found = await this.keyFor(shopId, sealed.subject, false);
    // The cached key may be older than the stored one (another process shredded and re-created it): ask the table.
    if (found && found.id !== keyId) found = await this.reloadKey(shopId, sealed.subject);
    if (!found || found.id !== keyId) {
      this.erased.set(erasedKey, true);
      return null;
    }
    const key = found.key;
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedValueTamperedError();
    let json: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      const deflated =
        sealed.$sealed === SEALED_VALUE_ALGORITHM_DEFLATE || sealed.$sealed === SEALED_VALUE_ALGORITHM_DEFLATE_V2;
      decipher.setAAD(aad('sealed', shopId, sealed.subject, sealed.key, deflated));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
      json = (deflated ? inflateRawSync(plain) : plain).toString('utf8');
    } catch {
      throw new SealedValueTamperedError();
    }
    return JSON.parse(json) as T;
  }

  /** Crypto-shreds subjects: deletes their keys, so everything sealed for them is unreadable. Returns keys deleted. */
  async shred(shopId: string, subjects: readonly string[]): Promise<number> {
    if (subjects.length === 0) return 0;
    this.generation += 1;
    for (const s of subjects) this.cache.delete(cacheKey(shopId, s));
    const r = await this.pool.query(
      'DELETE FROM privacy.subject_keys WHERE shop_id = $1 AND subject = ANY($2::text[])',
      [shopId, [...subjects]],
    );
    // Invalidate again: a batch may have cached a key between the first invalidation and the delete.
    this.generation += 1;
    for (const s of subjects) this.cache.delete(cacheKey(shopId, s));
    return r.rowCount ?? 0;
  }

  /** Crypto-shreds every subject of a shop (shop/redact). Returns keys deleted. */
  async shredShop(shopId: string): Promise<number> {
    const prefix = cacheKey(shopId, '');
    this.generation += 1;
    this.cache.deleteWhere((k) => k.startsWith(prefix));
    const r = await this.pool.query('DELETE FROM privacy.subject_keys WHERE shop_id = $1', [shopId]);
    this.generation += 1;
    this.cache.deleteWhere((k) => k.startsWith(prefix));
    this.peppers.delete(shopId);
    return r.rowCount ?? 0;
  }

  /**
   * The deterministic customer key, without personal data in clear: `e-<hex>` from the email
   * (trimmed, NFC, lower-cased) when there is one, else `t-<hex>` from an E.164 phone, else
   * `p-<platformCustomerId>`. The hex is HMAC-SHA256 with a per-shop pepper derived from the
   * master key, truncated to 32 hex digits (128 bits). Undefined when nothing identifies.
   */
  subjectFor(shopId: string, ids: CustomerIdentifiers): string | undefined {
    return this.customerKeysFor(shopId, ids)[0];
  }

  /** Every key that could identify this customer, preferred first (for redaction: shred them all). */
  customerKeysFor(shopId: string, ids: CustomerIdentifiers): string[] {
    checkName(shopId, 'shopId');
    const keys: string[] = [];
    const email = typeof ids.email === 'string' ? ids.email.trim().normalize('NFC').toLowerCase() : '';
    if (email !== '') keys.push(`e-${this.hmacHex(shopId, 'email', email)}`);
    const phone = typeof ids.phone === 'string' ? ids.phone.trim() : '';
    if (isE164(phone)) keys.push(`t-${this.hmacHex(shopId, 'phone', phone)}`);
    if (typeof ids.platformCustomerId === 'string' && ids.platformCustomerId !== '') {
      keys.push(`p-${ids.platformCustomerId}`);
    }
    return keys;
  }

  private hmacHex(shopId: string, kind: 'email' | 'phone', value: string): string {
    let pepper = this.peppers.get(shopId);
    if (!pepper) {
      pepper = Buffer.from(
        hkdfSync('sha256', this.pepperRoot, Buffer.from(shopId, 'utf8'), 'reclaim/customer-key/pepper', KEY_BYTES),
      );
      this.peppers.set(shopId, pepper);
    }
    return createHmac('sha256', pepper).update(`${kind}\u0000${value}`, 'utf8').digest('hex').slice(0, 32);
  }

  /** The stored key of one subject, bypassing the cache (and refreshing it). */
  private async reloadKey(shopId: string, subject: string): Promise<SubjectKey | null> {
    const generation = this.generation;
    const rows = await this.selectKeys([{ shopId, subject }]);
    const row = rows[0];
    if (!row) return null;
    const found = { id: row.key_id, key: this.unwrap(row) };
    if (generation === this.generation) this.cache.set(cacheKey(shopId, subject), found);
    return found;
  }

  private keyFor(shopId: string, subject: string, create: boolean): Promise<SubjectKey | null> {
    const ck = cacheKey(shopId, subject);
    const cached = this.cache.get(ck);
    if (cached) return Promise.resolve(cached);
    const running = this.inflight.get(ck);
    if (running && (running.create || !create)) return running.promise;
    const queued = this.queue.get(ck);
    if (queued) {
      queued.create ||= create;
      return queued.promise;
    }
    let resolve!: (k: SubjectKey | null) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<SubjectKey | null>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.queue.set(ck, { shopId, subject, create, promise, resolve, reject });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate lets every seal started in this turn of the event loop join the batch.
      setImmediate(() => this.flush());
    }
    return promise;
  }

  private flush(): void {
    this.flushScheduled = false;
    const entries = [...this.queue.entries()];
    this.queue = new Map();
    for (let i = 0; i < entries.length; i += this.maxBatch) {
      const batch = entries.slice(i, i + this.maxBatch);
      for (const [ck, p] of batch) this.inflight.set(ck, p);
      void this.loadBatch(batch.map(([, p]) => p)).finally(() => {
        for (const [ck, p] of batch) if (this.inflight.get(ck) === p) this.inflight.delete(ck);
      });
    }
  }

  /**
   * One round trip per batch. Without keys to create: a SELECT. With some: one statement inserts a
   * fresh key for every subject asked with `create` (`ON CONFLICT DO NOTHING`) and returns those it
   * inserted together with the stored keys of the others (read from the statement's snapshot); a
   * key another process inserted after that snapshot is read again. With `deferKeyFlush` that
   * statement commits without waiting for its WAL flush (see the option).
   */
  private async loadBatch(batch: readonly PendingKey[]): Promise<void> {
    const generation = this.generation;
    try {
      const found = new Map<string, SubjectKey>();
      const creating = batch.filter((p) => p.create);
      if (creating.length === 0) {
        for (const row of await this.selectKeys(batch))
          found.set(cacheKey(row.shop_id, row.subject), { id: row.key_id, key: this.unwrap(row) });
      } else {
        // One draw for the batch (8 id bytes and 32 key bytes per subject): one call, not two per new customer.
        const random = randomBytes(creating.length * (8 + KEY_BYTES));
        const fresh = new Map<string, SubjectKey>(
          creating.map((p, i) => {
            const at = i * (8 + KEY_BYTES);
            return [
              cacheKey(p.shopId, p.subject),
              { id: random.toString('hex', at, at + 8), key: Buffer.from(random.subarray(at + 8, at + 8 + KEY_BYTES)) },
            ];
          }),
        );
        const freshOf = (p: PendingKey) => (p.create ? fresh.get(cacheKey(p.shopId, p.subject)) : undefined);
        const { rows } = await this.pool.query<KeyRow & { created: boolean }>(
          `WITH q AS MATERIALIZED (
             SELECT q.* FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS q(shop_id, subject, key_id, wrapped_key)${
               this.deferKeyFlush ? `, set_config('synchronous_commit', 'off', true)` : ''
             }),
           ins AS (
             INSERT INTO privacy.subject_keys (shop_id, subject, key_id, wrapped_key)
             SELECT shop_id, subject, key_id, wrapped_key FROM q WHERE key_id IS NOT NULL
             ON CONFLICT (shop_id, subject) DO NOTHING
             RETURNING shop_id, subject)
           SELECT k.shop_id, k.subject, k.key_id, k.wrapped_key, false AS created
             FROM privacy.subject_keys k JOIN q ON k.shop_id = q.shop_id AND k.subject = q.subject
           UNION ALL
           SELECT shop_id, subject, NULL, NULL, true FROM ins`,
          [
            batch.map((p) => p.shopId),
            batch.map((p) => p.subject),
            batch.map((p) => freshOf(p)?.id ?? null),
            batch.map((p) => {
              const key = freshOf(p);
              return key === undefined ? null : this.wrap(p.shopId, p.subject, key);
            }),
          ],
        );
        // Stored keys first, then ours where we inserted (a key shredded meanwhile: ours is the live one).
        for (const row of rows)
          if (!row.created) found.set(cacheKey(row.shop_id, row.subject), { id: row.key_id, key: this.unwrap(row) });
        for (const row of rows) {
          const ck = cacheKey(row.shop_id, row.subject);
          if (row.created) found.set(ck, fresh.get(ck) as SubjectKey);
        }
        // Another process created these after our snapshot: use the stored key, never ours.
        const lost = creating.filter((p) => !found.has(cacheKey(p.shopId, p.subject)));
        if (lost.length > 0) {
          for (const row of await this.selectKeys(lost))
            found.set(cacheKey(row.shop_id, row.subject), { id: row.key_id, key: this.unwrap(row) });
        }
      }
      const cacheable = generation === this.generation;
      for (const p of batch) {
        const key = found.get(cacheKey(p.shopId, p.subject)) ?? null;
        if (key && cacheable) this.cache.set(cacheKey(p.shopId, p.subject), key);
        if (!key && p.create) p.reject(new Error('Subject key vanished while being created (shredded concurrently)'));
        else p.resolve(key);
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  private async selectKeys(batch: readonly { readonly shopId: string; readonly subject: string }[]): Promise<KeyRow[]> {
    const r = await this.pool.query<KeyRow>(
      `SELECT k.shop_id, k.subject, k.key_id, k.wrapped_key
         FROM privacy.subject_keys k
         JOIN unnest($1::text[], $2::text[]) AS q(shop_id, subject)
           ON k.shop_id = q.shop_id AND k.subject = q.subject`,
      [batch.map((p) => p.shopId), batch.map((p) => p.subject)],
    );
    return r.rows;
  }

  private wrap(shopId: string, subject: string, key: SubjectKey): Buffer {
    return wrapBytes(this.ring, WRAP_INFO, key.key, aad('subject-key', shopId, subject, key.id));
  }

  private unwrap(row: KeyRow): Buffer {
    try {
      const key = unwrapBytes(
        this.ring,
        WRAP_INFO,
        row.wrapped_key,
        aad('subject-key', row.shop_id, row.subject, row.key_id),
        aad('subject-key', row.shop_id, row.subject),
      );
      if (key.length !== KEY_BYTES) throw new UnwrapError('unsupported wrapped key format');
      return key;
    } catch (e) {
      if (e instanceof UnknownMasterKeyError) throw e;
      throw new Error('A subject key could not be unwrapped: wrong master key (RECLAIM_MASTER_KEY / data/master.key)?');
    }
  }

  /**
   * Master-key rotation: re-wraps up to `batch` subject keys that are not wrapped with the
   * current master key, in one transaction (rows locked, others skipped), and returns how many
   * were done and how many remain. Safe to interrupt and to run from several processes: a row is
   * either wholly re-wrapped or untouched, and both master keys open it meanwhile.
   */
  async rewrapBatch(batch = 500): Promise<RewrapProgress> {
    const current = this.ring.current.id;
    let rewrapped = 0;
    await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<KeyRow>(
        `SELECT shop_id, subject, key_id, wrapped_key FROM privacy.subject_keys
          WHERE get_byte(wrapped_key, 0) <> 2 OR substring(wrapped_key FROM 2 FOR 8) <> decode($1, 'hex')
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [current, batch],
      );
      for (const row of rows) {
        if (wrappedWith(row.wrapped_key) === current) continue;
        const key = this.unwrap(row);
        await client.query(
          'UPDATE privacy.subject_keys SET wrapped_key = $4 WHERE shop_id = $1 AND subject = $2 AND key_id = $3',
          [row.shop_id, row.subject, row.key_id, this.wrap(row.shop_id, row.subject, { id: row.key_id, key })],
        );
        rewrapped += 1;
      }
    });
    return { rewrapped, remaining: await this.countNotCurrent() };
  }

  /** Subject keys not (yet) wrapped with the current master key. */
  async countNotCurrent(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM privacy.subject_keys
        WHERE get_byte(wrapped_key, 0) <> 2 OR substring(wrapped_key FROM 2 FOR 8) <> decode($1, 'hex')`,
      [this.ring.current.id],
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}

function checkName(value: string, what: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
    throw new TypeError(`${what} must be a non-empty string without NUL characters`);
  }
}
