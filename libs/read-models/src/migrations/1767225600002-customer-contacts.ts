import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ANALYST_ROLE } from './1767225600001-analyst-role';

/**
 * `read.customer_contacts`: the customer's contact in masked form only (`a***@example.com`,
 * `+44******1234`, initials), written by the customers projection after opening the sealed contact
 * with the vault; nothing once the customer's key is shredded. `read.customers_masked` joins it to
 * `read.customers`. The default privileges of the analyst role cover both; granted explicitly too, in
 * case another role runs this migration. Existing installations fill the table with
 * `projections rebuild customers`.
 */
export class CustomerContacts1767225600002 implements MigrationInterface {
  readonly name = 'CustomerContacts1767225600002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE read.customer_contacts (
        shop_id text NOT NULL,
        customer_key text NOT NULL,
        email_masked text,
        phone_masked text,
        name_initials text,
        updated_position text NOT NULL,
        PRIMARY KEY (shop_id, customer_key)
      )`);
    await q.query(`
      CREATE VIEW read.customers_masked AS
      SELECT c.*, m.email_masked, m.phone_masked, m.name_initials
        FROM read.customers c
        LEFT JOIN read.customer_contacts m ON m.shop_id = c.shop_id AND m.customer_key = c.customer_key`);
    await q.query(`GRANT SELECT ON read.customer_contacts, read.customers_masked TO ${ANALYST_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW IF EXISTS read.customers_masked`);
    await q.query(`DROP TABLE IF EXISTS read.customer_contacts`);
  }
}
