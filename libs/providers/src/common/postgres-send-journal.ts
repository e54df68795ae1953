import type { Pool } from 'pg';
import type { SendJournal, SendJournalEntry } from './send-journal';

/**
 * The send journal's table (schema `engine`): one row per idempotency key, what this appliance
 * knows about its own SMTP and Twilio sends. It outlives restarts, so `lookup` after an unknown
 * outcome (R2) can answer `sent` for a message a previous process sent, and `not-sent` for a key
 * that was never attempted. Not rebuildable from the event log: keep it like `engine.effects`.
 * Created with the engine's tables (`migrateRecoveryEngine(pool, { adapterTables: [SEND_JOURNAL_SQL] })`).
 */
export const SEND_JOURNAL_SQL = `
CREATE SCHEMA IF NOT EXISTS engine;
CREATE TABLE IF NOT EXISTS engine.send_journal (
  idempotency_key text PRIMARY KEY,
  provider text NOT NULL,
  status text NOT NULL CHECK (status IN ('attempted', 'accepted', 'refused')),
  message_id text,
  updated_at timestamptz NOT NULL
);
`;

/**
 * A durable {@link SendJournal} in Postgres. As with the in-memory journal, an `accepted` entry is
 * never downgraded (a late `attempted` or `refused` for the same key leaves it as is).
 */
export class PostgresSendJournal implements SendJournal {
  readonly durable = true;

  constructor(
    private readonly pool: Pool,
    /** Which adapter writes here ('smtp', 'twilio'): recorded for operators, keys are unique anyway. */
    private readonly provider: string,
  ) {}

  async record(idempotencyKey: string, entry: SendJournalEntry): Promise<void> {
    const messageId = entry.state === 'accepted' ? entry.messageId : null;
    await this.pool.query(
      `INSERT INTO engine.send_journal (idempotency_key, provider, status, message_id, updated_at)
       VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000))
       ON CONFLICT (idempotency_key) DO UPDATE
         SET provider = EXCLUDED.provider, status = EXCLUDED.status,
             message_id = EXCLUDED.message_id, updated_at = EXCLUDED.updated_at
       WHERE engine.send_journal.status <> 'accepted' OR EXCLUDED.status = 'accepted'`,
      [idempotencyKey, this.provider, entry.state, messageId, entry.at],
    );
  }

  async get(idempotencyKey: string): Promise<SendJournalEntry | undefined> {
    const { rows } = await this.pool.query<{ status: string; message_id: string | null; at: string }>(
      `SELECT status, message_id, (extract(epoch FROM updated_at) * 1000)::float8 AS at
         FROM engine.send_journal WHERE idempotency_key = $1`,
      [idempotencyKey],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const at = Number(row.at);
    if (row.status === 'accepted' && row.message_id !== null)
      return { state: 'accepted', messageId: row.message_id, at };
    if (row.status === 'refused') return { state: 'refused', at };
    return { state: 'attempted', at };
  }
}
