import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { READ_MODEL_ENTITIES } from './entities';
import { analystRoleMigration } from './migrations/1767225600001-analyst-role';
import { ReadModels1767225600000 } from './migrations/1767225600000-read-models';
import { CustomerContacts1767225600002 } from './migrations/1767225600002-customer-contacts';
import { LiftArms1767225600003 } from './migrations/1767225600003-lift-arms';
import { BlockedSteps1767225600004 } from './migrations/1767225600004-blocked-steps';
import { ResponseRates1767225600013 } from './migrations/1767225600013-response-rates';
import { BackInStockMessages1767225600014 } from './migrations/1767225600014-back-in-stock-messages';
import { Models1767225600015 } from './migrations/1767225600015-models';
import { SendTimeArms1767225600016 } from './migrations/1767225600016-send-time-arms';
import { RoutingBands1767225600017 } from './migrations/1767225600017-routing-bands';
import { Experiments1767225600019 } from './migrations/1767225600019-experiments';
import { Incentives1767225600021 } from './migrations/1767225600021-incentives';
import { IncentiveUpliftArms1767225600022 } from './migrations/1767225600022-incentive-uplift-arms';
import { PolicyArms1767225600023 } from './migrations/1767225600023-policy-arms';

export interface ReadModelsMigrationOptions {
  /** ANALYST_DB_PASSWORD: the analyst role is created with LOGIN and this password (else NOLOGIN). */
  readonly analystPassword?: string;
}

/** The TypeORM data source of the read models (entities + migrations; never `synchronize`). */
export function readModelsDataSource(databaseUrl: string, options: ReadModelsMigrationOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: READ_MODEL_ENTITIES,
    migrations: [
      ReadModels1767225600000,
      analystRoleMigration({ password: options.analystPassword }),
      CustomerContacts1767225600002,
      LiftArms1767225600003,
      BlockedSteps1767225600004,
      ResponseRates1767225600013,
      BackInStockMessages1767225600014,
      Models1767225600015,
      SendTimeArms1767225600016,
      RoutingBands1767225600017,
      Experiments1767225600019,
      Incentives1767225600021,
      IncentiveUpliftArms1767225600022,
      PolicyArms1767225600023,
    ],
    migrationsTableName: 'read_model_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: 2, application_name: 'reclaim-migrations' },
  });
}

/**
 * Runs the read-model migrations (each in its own transaction). Several instances may start at once:
 * a session advisory lock on `pool` serialises them, the later ones find nothing left to run.
 */
export async function migrateReadModels(
  pool: Pool,
  databaseUrl: string,
  options: ReadModelsMigrationOptions = {},
): Promise<string[]> {
  const lock = await pool.connect();
  let healthy = false;
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('reclaim.migrations'), hashtext('read-models'))`);
    const source = readModelsDataSource(databaseUrl, options);
    await source.initialize();
    try {
      const ran = await source.runMigrations({ transaction: 'each' });
      return ran.map((m) => m.name);
    } finally {
      await source.destroy();
      await lock.query(`SELECT pg_advisory_unlock(hashtext('reclaim.migrations'), hashtext('read-models'))`);
      healthy = true;
    }
  } finally {
    lock.release(!healthy);
  }
}
