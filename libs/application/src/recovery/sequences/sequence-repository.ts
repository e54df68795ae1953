import type { Pool } from 'pg';
import {
  defaultSequences,
  validateSequenceCatalogue,
  type RecoveryConfig,
  type SequenceCatalogue,
  type SequenceDefinition,
  type ValidationError,
} from '@reclaim/domain';

/** A shop's sequence catalogue, versioned: new recoveries use the latest, running ones keep their snapshot. */
export interface SequenceRepository {
  /** The latest catalogue of the shop, or the default sequences when the shop has none. */
  current(shopId: string): Promise<SequenceCatalogue>;
  /** {@link current} of several shops with at most one round trip (the engine's batches). Optional. */
  currentMany?(shopIds: readonly string[]): Promise<Map<string, SequenceCatalogue>>;
  /** Stores a new version (validated) and returns it with its version number. */
  save(shopId: string, sequences: readonly SequenceDefinition[]): Promise<SequenceCatalogue>;
  history(shopId: string): Promise<SequenceCatalogue[]>;
}

export class InvalidSequenceCatalogueError extends Error {
  constructor(readonly errors: readonly ValidationError[]) {
    super(`invalid sequence catalogue: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'InvalidSequenceCatalogueError';
  }
}

/** A cache of the shops' current catalogues (the shop settings cache keeps them with the settings). */
export interface SequenceCatalogueCache {
  catalogues(shopIds: readonly string[]): Promise<Map<string, SequenceCatalogue>>;
  invalidate(shopId: string): void;
}

/**
 * `engine.sequences(shop_id, version, definition jsonb, created_at)`. The built-in default catalogue is
 * version 1, so the first saved catalogue is version 2 and a recorded `catalogueVersion` is unambiguous.
 */
export class PostgresSequenceRepository implements SequenceRepository {
  /**
   * With `cache` (the engine's `PostgresShopSettings`), current catalogues are read through it: a
   * save here drops the shop's entry at once, one anywhere else through the table's NOTIFY trigger.
   */
  constructor(
    private readonly pool: Pool,
    private readonly config: RecoveryConfig,
    private readonly cache?: SequenceCatalogueCache,
  ) {}

  async current(shopId: string): Promise<SequenceCatalogue> {
    return (await this.currentMany([shopId])).get(shopId)!;
  }

  async currentMany(shopIds: readonly string[]): Promise<Map<string, SequenceCatalogue>> {
    if (this.cache) return this.cache.catalogues(shopIds);
    const ids = [...new Set(shopIds)];
    const { rows } = await this.pool.query<{ shop_id: string; version: number; definition: SequenceCatalogue }>(
      `SELECT DISTINCT ON (shop_id) shop_id, version, definition FROM engine.sequences
        WHERE shop_id = ANY($1::text[]) ORDER BY shop_id, version DESC`,
      [ids],
    );
    const stored = new Map(rows.map((r) => [r.shop_id, { ...r.definition, version: r.version }]));
    return new Map(ids.map((id) => [id, stored.get(id) ?? defaultSequences(this.config)]));
  }

  async save(shopId: string, sequences: readonly SequenceDefinition[]): Promise<SequenceCatalogue> {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await this.pool.query<{ v: number }>(
        'SELECT COALESCE(max(version), 1)::int AS v FROM engine.sequences WHERE shop_id = $1',
        [shopId],
      );
      const catalogue: SequenceCatalogue = { version: rows[0].v + 1, sequences };
      const errors = validateSequenceCatalogue(catalogue);
      if (errors.length > 0) throw new InvalidSequenceCatalogueError(errors);
      const r = await this.pool.query(
        `INSERT INTO engine.sequences (shop_id, version, definition) VALUES ($1, $2, $3)
         ON CONFLICT (shop_id, version) DO NOTHING`,
        [shopId, catalogue.version, JSON.stringify(catalogue)],
      );
      if (r.rowCount === 1) {
        this.cache?.invalidate(shopId);
        return catalogue;
      }
      if (attempt >= 5) throw new Error('could not allocate a sequence version (concurrent saves)');
    }
  }

  async history(shopId: string): Promise<SequenceCatalogue[]> {
    const { rows } = await this.pool.query<{ version: number; definition: SequenceCatalogue }>(
      'SELECT version, definition FROM engine.sequences WHERE shop_id = $1 ORDER BY version',
      [shopId],
    );
    return rows.map((r) => ({ ...r.definition, version: r.version }));
  }
}
