import { Client } from 'pg';
import { createTestDatabase } from './test-database';

describe('test database on the suite server', () => {
  it('creates, connects to and drops a database of its own', async () => {
    const db = await createTestDatabase();
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query('select current_database() as name');
    await c.end();
    expect(rows[0].name).toBe(db.name);
    await db.drop();
  });
});
