import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Platform } from '@reclaim/domain';
import { SecretBox } from './secret-box';

export interface Shop {
  readonly id: string;
  readonly platform: Platform;
  readonly shopDomain: string;
  readonly currency: string;
  readonly timezone: string;
  readonly apiUrl: string;
  readonly createdAt: Date;
  readonly secretRotatedAt: Date | null;
  /** Until when the previous webhook secret is still accepted (rotation window). */
  readonly previousSecretValidUntil: Date | null;
  /** False: the merchant manages the webhook subscriptions by hand (`registerWebhooks: false`). */
  readonly registerWebhooks: boolean;
  /** The subscriptions the appliance created on the platform: topic → the platform's id. */
  readonly subscriptions: Readonly<Record<string, string>>;
}

/** A shop as the ingestion path needs it: with its secrets opened. Never serialised. */
export interface ShopCredentials extends Shop {
  /** The secrets a delivery may be signed with right now: the current one, then the previous within its window. */
  webhookSecrets(now: Date): string[];
  readonly apiToken: string;
}

export interface RegisterShopInput {
  readonly platform: Platform;
  readonly shopDomain: string;
  readonly webhookSecret: string;
  readonly apiUrl: string;
  readonly apiToken: string;
  readonly currency: string;
  readonly timezone: string;
  /** Default true. */
  readonly registerWebhooks?: boolean;
  /** topic → platform id of the subscriptions created while connecting. */
  readonly subscriptions?: Readonly<Record<string, string>>;
}

export class ShopAlreadyRegisteredError extends Error {
  constructor(
    readonly platform: Platform,
    readonly shopDomain: string,
  ) {
    super(`a ${platform} shop with domain ${shopDomain} is already registered`);
  }
}

interface ShopRow {
  id: string;
  platform: Platform;
  shop_domain: string;
  currency: string;
  timezone: string;
  api_url: string;
  api_token_enc: string;
  webhook_secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_valid_until: Date | null;
  secret_rotated_at: Date | null;
  created_at: Date;
  register_webhooks: boolean;
  webhook_subscriptions: Record<string, string> | null;
}

const CACHE_TTL_MS = 5_000;

/**
 * The shops Reclaim serves, with their webhook secrets and store API tokens encrypted at rest.
 * Lookups on the webhook hot path are cached briefly (a rotation done by another process is
 * seen within CACHE_TTL_MS; the previous secret stays valid for the rotation window anyway).
 */
export class ShopRegistry {
  private readonly byDomain = new Map<string, { at: number; shop: ShopCredentials | null }>();
  /** Look-ups running, shared by the callers that miss meanwhile. */
  private readonly loading = new Map<string, Promise<ShopCredentials | null>>();
  /** Bumped by every change to a shop: a look-up that started before it is not cached. */
  private generation = 0;
  /** The engine's time-zone look-ups (no secrets), cached like the webhook look-ups. */
  private readonly zones = new Map<string, { at: number; zone: string | null }>();

  constructor(
    private readonly pool: Pool,
    private readonly box: SecretBox,
    private readonly now: () => Date = () => new Date(),
    /** Shops kept by the webhook look-up cache (least recently used evicted; CACHE_SHOPS). */
    private readonly maxEntries = 10_000,
  ) {}

  static async migrate(pool: Pool): Promise<void> {
    await pool.query(`
      CREATE SCHEMA IF NOT EXISTS app;
      CREATE TABLE IF NOT EXISTS app.shops (
        id uuid PRIMARY KEY,
        platform text NOT NULL CHECK (platform IN ('shopify', 'bigcommerce', 'woocommerce')),
        shop_domain text NOT NULL,
        currency char(3) NOT NULL,
        timezone text NOT NULL,
        api_url text NOT NULL,
        api_token_enc text NOT NULL,
        webhook_secret_enc text NOT NULL,
        previous_secret_enc text,
        previous_secret_valid_until timestamptz,
        secret_rotated_at timestamptz,
        cartflows_token_hash text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (platform, shop_domain)
      );
      ALTER TABLE app.shops ADD COLUMN IF NOT EXISTS register_webhooks boolean NOT NULL DEFAULT true;
      ALTER TABLE app.shops ADD COLUMN IF NOT EXISTS webhook_subscriptions jsonb NOT NULL DEFAULT '{}'::jsonb;
      ALTER TABLE app.shops ADD COLUMN IF NOT EXISTS connection_problem text;
      ALTER TABLE app.shops ADD COLUMN IF NOT EXISTS connection_checked_at timestamptz;`);
  }

  async register(input: RegisterShopInput): Promise<{ shop: Shop; cartflowsToken?: string }> {
    const id = randomUUID();
    const cartflowsToken = input.platform === 'woocommerce' ? randomBytes(24).toString('base64url') : undefined;
    try {
      const { rows } = await this.pool.query<ShopRow>(
        `INSERT INTO app.shops (id, platform, shop_domain, currency, timezone, api_url, api_token_enc, webhook_secret_enc,
           cartflows_token_hash, register_webhooks, webhook_subscriptions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [
          id,
          input.platform,
          input.shopDomain,
          input.currency,
          input.timezone,
          input.apiUrl,
          this.box.seal(input.apiToken, `shop:${id}:api-token`),
          this.box.seal(input.webhookSecret, `shop:${id}:webhook-secret`),
          cartflowsToken ? hashToken(cartflowsToken) : null,
          input.registerWebhooks ?? true,
          JSON.stringify(input.subscriptions ?? {}),
        ],
      );
      this.forget(input.platform, input.shopDomain);
      return { shop: toShop(rows[0]), cartflowsToken };
    } catch (err) {
      if ((err as { code?: string }).code === '23505')
        throw new ShopAlreadyRegisteredError(input.platform, input.shopDomain);
      throw err;
    }
  }

  /**
   * Master-key rotation: re-seals every shop secret not sealed with the current master key.
   * Each shop is one conditional UPDATE (only if its secrets did not change meanwhile), so an
   * interrupted run leaves every secret readable with either key and a re-run finishes the rest.
   * Returns the number of shops re-sealed and how many still need it.
   */
  async rewrapSecrets(): Promise<{ rewrapped: number; remaining: number }> {
    const { rows } = await this.pool.query<ShopRow>('SELECT * FROM app.shops ORDER BY id');
    let rewrapped = 0;
    for (const row of rows) {
      const cols = ['api_token_enc', 'webhook_secret_enc', 'previous_secret_enc'] as const;
      if (cols.every((c) => row[c] === null || this.box.isCurrent(row[c] as string))) continue;
      const purpose = (c: (typeof cols)[number]) =>
        c === 'api_token_enc' ? `shop:${row.id}:api-token` : `shop:${row.id}:webhook-secret`;
      const next = cols.map((c) =>
        row[c] === null ? null : this.box.seal(this.box.open(row[c] as string, purpose(c)), purpose(c)),
      );
      const r = await this.pool.query(
        `UPDATE app.shops SET api_token_enc = $5, webhook_secret_enc = $6, previous_secret_enc = $7
          WHERE id = $1 AND api_token_enc = $2 AND webhook_secret_enc = $3 AND previous_secret_enc IS NOT DISTINCT FROM $4`,
        [row.id, row.api_token_enc, row.webhook_secret_enc, row.previous_secret_enc, ...next],
      );
      rewrapped += r.rowCount ?? 0;
    }
    const remaining = (await this.pool.query<ShopRow>('SELECT * FROM app.shops')).rows.filter(
      (row) =>
        !this.box.isCurrent(row.api_token_enc) ||
        !this.box.isCurrent(row.webhook_secret_enc) ||
        (row.previous_secret_enc !== null && !this.box.isCurrent(row.previous_secret_enc)),
    ).length;
    return { rewrapped, remaining };
  }

  async list(): Promise<Shop[]> {
    const { rows } = await this.pool.query<ShopRow>('SELECT * FROM app.shops ORDER BY created_at, id');
    return rows.map(toShop);
  }

  async get(id: string): Promise<ShopCredentials | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const { rows } = await this.pool.query<ShopRow>('SELECT * FROM app.shops WHERE id = $1', [id]);
    return rows[0] ? this.withSecrets(rows[0]) : null;
  }

  /**
   * The time zones of several shops (the engine's recovery starts): cached for CACHE_TTL_MS (LRU,
   * `maxEntries`), the misses read in one query without opening any secret. Unknown shops are absent.
   */
  async timeZones(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: string[] = [];
    const t = Date.now();
    for (const id of new Set(ids)) {
      const hit = this.zones.get(id);
      if (hit && t - hit.at < CACHE_TTL_MS) {
        this.zones.delete(id); // most recently used last
        this.zones.set(id, hit);
        if (hit.zone !== null) out.set(id, hit.zone);
      } else if (/^[0-9a-f-]{36}$/i.test(id)) missing.push(id);
    }
    if (missing.length === 0) return out;
    const { rows } = await this.pool.query<{ id: string; timezone: string }>(
      'SELECT id, timezone FROM app.shops WHERE id = ANY($1::uuid[])',
      [missing],
    );
    const found = new Map(rows.map((r) => [r.id, r.timezone]));
    for (const id of missing) {
      const zone = found.get(id.toLowerCase()) ?? null;
      if (zone !== null) out.set(id, zone);
      this.zones.delete(id);
      this.zones.set(id, { at: t, zone });
    }
    while (this.zones.size > this.maxEntries) this.zones.delete(this.zones.keys().next().value as string);
    return out;
  }

  async findByDomain(platform: Platform, shopDomain: string): Promise<ShopCredentials | null> {
    const key = cacheKey(platform, shopDomain);
    const hit = this.byDomain.get(key);
    const t = Date.now();
    if (hit && t - hit.at < CACHE_TTL_MS) {
      this.byDomain.delete(key); // most recently used last
      this.byDomain.set(key, hit);
      return hit.shop;
    }
    // One look-up per shop at a time: the deliveries arriving while it runs share it (no burst of
    // identical reads, each opening the secrets, every time the entry expires under load).
    const running = this.loading.get(key);
    if (running) return running;
    const generation = this.generation;
    const load = this.pool
      .query<ShopRow>('SELECT * FROM app.shops WHERE platform = $1 AND shop_domain = $2', [platform, shopDomain])
      .then(({ rows }) => {
        const shop = rows[0] ? this.withSecrets(rows[0]) : null;
        // A change made while the read ran (register, rotation, deletion) must not be overwritten by it.
        if (generation === this.generation) {
          this.byDomain.delete(key);
          this.byDomain.set(key, { at: t, shop });
          while (this.byDomain.size > this.maxEntries)
            this.byDomain.delete(this.byDomain.keys().next().value as string);
        }
        return shop;
      })
      .finally(() => {
        if (this.loading.get(key) === load) this.loading.delete(key);
      });
    this.loading.set(key, load);
    return load;
  }

  /** Drops a shop's cached look-up, and keeps a look-up already running from caching what it read. */
  private forget(platform: string, shopDomain: string): void {
    const key = cacheKey(platform, shopDomain);
    this.generation += 1;
    this.byDomain.delete(key);
    this.loading.delete(key);
  }

  /** The unsigned CartFlows plugin posts to a per-shop secret URL; only the token's hash is stored. */
  async findByCartflowsToken(token: string): Promise<ShopCredentials | null> {
    const { rows } = await this.pool.query<ShopRow>('SELECT * FROM app.shops WHERE cartflows_token_hash = $1', [
      hashToken(token),
    ]);
    return rows[0] ? this.withSecrets(rows[0]) : null;
  }

  /** Rotate the webhook secret; the old one keeps being accepted for `previousValidForMs`. */
  async rotateWebhookSecret(id: string, newSecret: string, previousValidForMs: number): Promise<Shop | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null; // not a shop id: unknown, never a database error
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<ShopRow>('SELECT * FROM app.shops WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) {
        await client.query('ROLLBACK');
        return null;
      }
      const now = this.now();
      const updated = await client.query<ShopRow>(
        `UPDATE app.shops SET previous_secret_enc = webhook_secret_enc, previous_secret_valid_until = $2,
           webhook_secret_enc = $3, secret_rotated_at = $4 WHERE id = $1 RETURNING *`,
        [id, new Date(now.getTime() + previousValidForMs), this.box.seal(newSecret, `shop:${id}:webhook-secret`), now],
      );
      await client.query('COMMIT');
      this.forget(row.platform, row.shop_domain);
      return toShop(updated.rows[0]);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Records the subscriptions the appliance created or repaired (topic → platform id). */
  async setSubscriptions(id: string, subscriptions: Readonly<Record<string, string>>): Promise<void> {
    await this.pool.query('UPDATE app.shops SET webhook_subscriptions = $2 WHERE id = $1', [
      id,
      JSON.stringify(subscriptions),
    ]);
  }

  /** The outcome of the latest connection check: null = nothing wrong (or not checkable). */
  async recordConnectionCheck(id: string, problem: string | null, at: Date): Promise<void> {
    await this.pool.query('UPDATE app.shops SET connection_problem = $2, connection_checked_at = $3 WHERE id = $1', [
      id,
      problem,
      at,
    ]);
  }

  /** Shops whose latest connection check found something wrong (for /health and /metrics). */
  async connectionProblems(): Promise<
    { id: string; platform: Platform; shopDomain: string; problem: string; checkedAt: Date }[]
  > {
    const { rows } = await this.pool.query<{
      id: string;
      platform: Platform;
      shop_domain: string;
      connection_problem: string;
      connection_checked_at: Date;
    }>(
      `SELECT id, platform, shop_domain, connection_problem, connection_checked_at FROM app.shops
        WHERE connection_problem IS NOT NULL ORDER BY shop_domain, id`,
    );
    return rows.map((r) => ({
      id: r.id,
      platform: r.platform,
      shopDomain: r.shop_domain,
      problem: r.connection_problem,
      checkedAt: r.connection_checked_at,
    }));
  }

  /** Forgets the shop: its deliveries are refused (401) from now on. False when there was none. */
  async remove(id: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const { rows } = await this.pool.query<ShopRow>('DELETE FROM app.shops WHERE id = $1 RETURNING *', [id]);
    const row = rows[0];
    if (!row) return false;
    this.forget(row.platform, row.shop_domain);
    this.zones.delete(id);
    return true;
  }

  private withSecrets(row: ShopRow): ShopCredentials {
    const purpose = `shop:${row.id}:webhook-secret`;
    const current = this.box.open(row.webhook_secret_enc, purpose);
    const previous = row.previous_secret_enc ? this.box.open(row.previous_secret_enc, purpose) : null;
    const validUntil = row.previous_secret_valid_until;
    const apiToken = this.box.open(row.api_token_enc, `shop:${row.id}:api-token`);
    return {
      ...toShop(row),
      apiToken,
      webhookSecrets: (now: Date) =>
        previous && validUntil && now.getTime() <= validUntil.getTime() ? [current, previous] : [current],
    };
  }
}

function toShop(row: ShopRow): Shop {
  return {
    id: row.id,
    platform: row.platform,
    shopDomain: row.shop_domain,
    currency: row.currency,
    timezone: row.timezone,
    apiUrl: row.api_url,
    createdAt: row.created_at,
    secretRotatedAt: row.secret_rotated_at,
    previousSecretValidUntil: row.previous_secret_valid_until,
    registerWebhooks: row.register_webhooks ?? true,
    subscriptions: row.webhook_subscriptions ?? {},
  };
}

function cacheKey(platform: string, domain: string): string {
  return `${platform}\u0000${domain}`;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
