import type { MigrationInterface, QueryRunner } from 'typeorm';

export const ANALYST_ROLE = 'reclaim_analyst';

/** Schemas of the appliance that the analyst must never read (R20). */
export const PRIVATE_SCHEMAS = ['event_store', 'privacy', 'app', 'engine', 'kafka_relay'] as const;

/**
 * The `reclaim_analyst` role (R20): SELECT on schema `read` — its tables and views, present and
 * future — and nothing else. Created when missing: NOLOGIN, or LOGIN with ANALYST_DB_PASSWORD when
 * one is configured. An existing role (e.g. from docker/postgres/initdb.d) keeps its login and
 * password. Roles are cluster-wide; the grants are per database.
 */
export function analystRoleMigration(options: { readonly password?: string }): new () => MigrationInterface {
  return class AnalystRole1767225600001 implements MigrationInterface {
    readonly name = 'AnalystRole1767225600001';

    async up(q: QueryRunner): Promise<void> {
      const login = options.password ? `LOGIN PASSWORD ${quoteLiteral(options.password)}` : 'NOLOGIN';
      // Two databases of one cluster may migrate at once: the loser of the race sees the role.
      await q.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ANALYST_ROLE}') THEN
          CREATE ROLE ${ANALYST_ROLE} ${login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
      await q.query(`REVOKE ALL ON SCHEMA read FROM PUBLIC`);
      await q.query(`GRANT USAGE ON SCHEMA read TO ${ANALYST_ROLE}`);
      await q.query(`GRANT SELECT ON ALL TABLES IN SCHEMA read TO ${ANALYST_ROLE}`);
      await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA read GRANT SELECT ON TABLES TO ${ANALYST_ROLE}`);
      // Nothing of the appliance's own schemas (those created later grant nothing to PUBLIC either).
      const existing: { nspname: string }[] = await q.query(
        `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])`,
        [[...PRIVATE_SCHEMAS]],
      );
      for (const { nspname } of existing) {
        await q.query(`REVOKE ALL ON SCHEMA ${nspname} FROM PUBLIC, ${ANALYST_ROLE}`);
        await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${nspname} FROM PUBLIC, ${ANALYST_ROLE}`);
      }
      await q.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA read REVOKE SELECT ON TABLES FROM ${ANALYST_ROLE}`);
      await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA read FROM ${ANALYST_ROLE}`);
      await q.query(`REVOKE ALL ON SCHEMA read FROM ${ANALYST_ROLE}`);
    }
  };
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
