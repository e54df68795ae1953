import { randomUUID } from 'node:crypto';
import { ANALYST_TOKEN, api, startHarness, type Harness } from './support/harness';

/**
 * Admin API ids (400 malformed / 404 unknown, never 500) and operator-managed tokens: scoped to
 * shops (an agency running several merchants), stored only as hashes, revocable, listed without
 * their secret; ADMIN_TOKEN and ANALYST_TOKEN keep working (R18, R19).
 */
describe('admin API: ids and scoped, hashed, revocable tokens', () => {
  let h: Harness;
  let shopA: string;
  let shopB: string;

  const shop = (domain: string) => ({
    platform: 'shopify',
    shopDomain: domain,
    webhookSecret: `secret-${domain}`,
    apiUrl: `https://${domain}/admin/api/2025-01`,
    apiToken: 'shpat_x',
    currency: 'USD',
    timezone: 'UTC',
  });

  beforeAll(async () => {
    h = await startHarness();
    shopA = (await api(h, 'POST', '/api/shops', shop('agency-a.myshopify.com'))).body.id;
    shopB = (await api(h, 'POST', '/api/shops', shop('agency-b.myshopify.com'))).body.id;
  });
  afterAll(async () => h?.close());

  it.each([
    ['POST', '/api/shops/not-a-uuid/rotate-secret', { webhookSecret: 'abcdefgh12345678' }],
    ['GET', '/api/shops/not-a-uuid/settings', undefined],
    ['PUT', '/api/shops/1%00/settings', {}],
    ['GET', '/api/shops/%F0%9F%98%80/sequences', undefined],
    ['GET', '/api/customers/nope/e-abc/history', undefined],
    ['GET', '/api/dashboard/stuck-steps?shopId=x%27--', undefined],
    ['DELETE', '/api/tokens/not-a-uuid', undefined],
  ])('%s %s with a malformed id answers 400 naming it', async (method, path, body) => {
    const res = await api(h, method, path, body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(/id|shopId/i);
  });

  it.each([
    ['POST', '/rotate-secret', { webhookSecret: 'abcdefgh12345678' }],
    ['GET', '/settings', undefined],
    ['GET', '/sequences', undefined],
    ['GET', '/outbox', undefined],
  ])('an unknown shop id answers 404 on %s …%s', async (method, suffix, body) => {
    expect((await api(h, method, `/api/shops/${randomUUID()}${suffix}`, body)).status).toBe(404);
  });

  it('creates tokens shown once, stores only their hashes, lists them without secrets, and revokes them', async () => {
    const created = await api(h, 'POST', '/api/tokens', { name: 'agency A', role: 'admin', shopIds: [shopA] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'agency A', role: 'admin', shopIds: [shopA], revokedAt: null });
    const secret: string = created.body.token;
    expect(secret).toMatch(/^rcl_[A-Za-z0-9_-]{40,}$/);
    const { rows } = await h.runtime.pool.query('SELECT * FROM app.api_tokens');
    expect(JSON.stringify(rows)).not.toContain(secret.slice(4));
    const list = await api(h, 'GET', '/api/tokens');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(4));
    expect(list.body).toEqual([expect.objectContaining({ id: created.body.id, name: 'agency A' })]);

    // Scoped to shop A: reads and writes there, 404 for shop B (as if it did not exist), 403 across shops.
    expect((await api(h, 'GET', `/api/shops/${shopA}/settings`, undefined, secret)).status).toBe(200);
    expect((await api(h, 'GET', `/api/shops/${shopB}/settings`, undefined, secret)).status).toBe(404);
    expect(
      (await api(h, 'POST', `/api/shops/${shopB}/rotate-secret`, { webhookSecret: 'abcdefgh12345678' }, secret)).status,
    ).toBe(404);
    expect((await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopB}`, undefined, secret)).status).toBe(404);
    expect((await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopA}`, undefined, secret)).status).toBe(200);
    expect((await api(h, 'POST', '/api/shops', shop('agency-c.myshopify.com'), secret)).status).toBe(403);
    expect((await api(h, 'GET', '/api/tokens', undefined, secret)).status).toBe(403);
    const visible = await api(h, 'GET', '/api/shops', undefined, secret);
    expect(visible.body.map((s: { id: string }) => s.id)).toEqual([shopA]);

    // A scoped analyst token reads its shop only and writes nothing.
    const analyst = await api(h, 'POST', '/api/tokens', { name: 'A analyst', role: 'analyst', shopIds: [shopA] });
    expect((await api(h, 'GET', `/api/shops/${shopA}/sequences`, undefined, analyst.body.token)).status).toBe(200);
    expect((await api(h, 'PUT', `/api/shops/${shopA}/settings`, {}, analyst.body.token)).status).toBe(403);
    expect((await api(h, 'GET', `/api/shops/${shopB}/sequences`, undefined, analyst.body.token)).status).toBe(404);

    // Revoked: refused at once.
    const revoked = await api(h, 'DELETE', `/api/tokens/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await api(h, 'GET', `/api/shops/${shopA}/settings`, undefined, secret)).status).toBe(401);
    expect((await api(h, 'DELETE', `/api/tokens/${randomUUID()}`)).status).toBe(404);
  });

  it('refuses bad token requests with 400 naming the field, and keeps ADMIN_TOKEN / ANALYST_TOKEN working', async () => {
    const bad = await api(h, 'POST', '/api/tokens', { name: '', role: 'root', shopIds: ['x'] });
    expect(bad.status).toBe(400);
    const text = JSON.stringify(bad.body.message);
    expect(text).toMatch(/role/);
    expect(text).toMatch(/shopIds/);
    const unknownShop = await api(h, 'POST', '/api/tokens', { name: 'x', role: 'admin', shopIds: [randomUUID()] });
    expect(unknownShop.status).toBe(400);
    expect(JSON.stringify(unknownShop.body.message)).toMatch(/shopIds/);
    expect((await api(h, 'GET', '/api/shops')).status).toBe(200);
    expect((await api(h, 'GET', '/api/shops', undefined, ANALYST_TOKEN)).status).toBe(200);
    expect((await api(h, 'POST', '/api/tokens', { name: 'x', role: 'admin' }, ANALYST_TOKEN)).status).toBe(403);
    expect((await api(h, 'GET', '/api/shops', undefined, 'rcl_unknown')).status).toBe(401);
  });
});
