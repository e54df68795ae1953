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

/**
 * `engine.sequences(shop_id, version, definition jsonb, created_at)`. The built-in default catalogue is
 * version 1, so the first saved catalogue is version 2 and a recorded `catalogueVersion` is unambiguous.
 */
export class PostgresSequenceRepository implements SequenceRepository {
  constructor(
    private readonly pool: Pool,
    private readonly config: RecoveryConfig,
  ) {}

  async current(shopId: string): Promise<SequenceCatalogue> {
    const { rows } = await this.pool.query<{ version: number; definition: SequenceCatalogue }>(
      'SELECT version, definition FROM engine.sequences WHERE shop_id = $1 ORDER BY version DESC LIMIT 1',
      [shopId],
    );
    if (rows.length === 0) return defaultSequences(this.config);
    return { ...rows[0].definition, version: rows[0].version };
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
      if (r.rowCount === 1) return catalogue;
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
