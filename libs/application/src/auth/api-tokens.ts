import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export type ApiTokenRole = 'admin' | 'analyst';

/** An admin API token as listed: never its secret, never its hash. */
export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: ApiTokenRole;
  /** The shops it may act on; `null` = every shop. */
  readonly shopIds: readonly string[] | null;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

/** What a presented token may do. */
export interface ApiTokenGrant {
  readonly tokenId: string;
  readonly role: ApiTokenRole;
  readonly shopIds: readonly string[] | null;
}

export interface CreateApiTokenInput {
  readonly name: string;
  readonly role: ApiTokenRole;
  readonly shopIds?: readonly string[] | null;
}

/** A shop named in a token's scope does not exist. */
export class UnknownShopInScopeError extends Error {
  constructor(readonly shopIds: readonly string[]) {
    super(`no shop ${shopIds.join(', ')}`);
    this.name = 'UnknownShopInScopeError';
  }
}

/** Secret tokens start with this prefix (so a leaked one is recognisable in a scan). */
export const API_TOKEN_PREFIX = 'rcl_';
const CACHE_TTL_MS = 5_000;

export function hashApiToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

interface Row {
  id: string;
  name: string;
  role: ApiTokenRole;
  shop_ids: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/**
 * Admin and analyst API tokens an operator manages (besides the `ADMIN_TOKEN` and
 * `ANALYST_TOKEN` settings, which keep working): each may be scoped to some shops (an agency
 * running several merchants on one appliance), is stored only as a SHA-256 hash, can be revoked,
 * and is listed without its secret. The secret is shown once, when it is created.
 *
 * Lookups are cached for 5 seconds: a revocation by another process takes effect within that
 * time (at once in the process that revoked).
 */
export class ApiTokens {
  private readonly cache = new Map<string, { at: number; grant: ApiTokenGrant | null }>();

  constructor(
    private readonly pool: Pool,
    /** Token grants kept (least recently used evicted; CACHE_API_TOKENS). */
    private readonly maxEntries = 10_000,
  ) {}

  static async migrate(pool: Pool): Promise<void> {
    await pool.query(`
      CREATE SCHEMA IF NOT EXISTS app;
      CREATE TABLE IF NOT EXISTS app.api_tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'analyst')),
        shop_ids uuid[],
        token_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      );
      COMMENT ON TABLE app.api_tokens IS 'Admin API tokens: SHA-256 hashes only; shop_ids NULL = every shop.';`);
  }

  /** Creates a token; the secret is returned here and never again. */
  async create(input: CreateApiTokenInput): Promise<{ token: ApiToken; secret: string }> {
    const shopIds = input.shopIds ? [...new Set(input.shopIds.map((s) => s.toLowerCase()))] : null;
    if (shopIds && shopIds.length > 0) {
      const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM app.shops WHERE id = ANY($1::uuid[])', [
        shopIds,
      ]);
      const known = new Set(rows.map((r) => r.id));
      const unknown = shopIds.filter((s) => !known.has(s));
      if (unknown.length > 0) throw new UnknownShopInScopeError(unknown);
    }
    const secret = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO app.api_tokens (id, name, role, shop_ids, token_hash) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, name, role, shop_ids, created_at, revoked_at, last_used_at`,
      [randomUUID(), input.name, input.role, shopIds, hashApiToken(secret)],
    );
    return { token: toToken(rows[0] as Row), secret };
  }

  async list(): Promise<ApiToken[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT id, name, role, shop_ids, created_at, revoked_at, last_used_at FROM app.api_tokens ORDER BY created_at, id',
    );
    return rows.map(toToken);
  }

  /** Revokes a token (idempotent). `null` when there is no such token. */
  async revoke(id: string): Promise<ApiToken | null> {
    const { rows } = await this.pool.query<Row>(
      `UPDATE app.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
       RETURNING id, name, role, shop_ids, created_at, revoked_at, last_used_at`,
      [id],
    );
    this.cache.clear();
    return rows[0] ? toToken(rows[0]) : null;
  }

  /** The grant of a presented token (by its hash), or `null` when unknown or revoked. */
  async grantFor(hash: Buffer): Promise<ApiTokenGrant | null> {
    const key = hash.toString('hex');
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_TTL_MS) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, hit);
      return hit.grant;
    }
    const { rows } = await this.pool.query<Row>(
      `UPDATE app.api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL
       RETURNING id, name, role, shop_ids, created_at, revoked_at, last_used_at`,
      [hash],
    );
    const row = rows[0];
    const grant = row ? { tokenId: row.id, role: row.role, shopIds: row.shop_ids } : null;
    this.cache.delete(key);
    this.cache.set(key, { at: now, grant });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return grant;
  }
}

function toToken(r: Row): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    shopIds: r.shop_ids,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}
