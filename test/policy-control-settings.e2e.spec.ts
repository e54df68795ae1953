/**
 * The policy control arm's settings (RFC 0021) through the running appliance: the appliance-wide
 * share comes from POLICY_CONTROL_PERCENT, a shop overrides it with `policyControl.percent` in its
 * settings, the settings API shows both the stored and the effective share, and a bad value is
 * refused with a 400 naming the field.
 */
import { api, registerShop, startHarness, type Harness } from './support/harness';

describe('policy control arm settings', () => {
  let h: Harness;
  let shopId = '';

  beforeAll(async () => {
    h = await startHarness({ POLICY_CONTROL_PERCENT: '15', HOLDOUT_PERCENT: '0' });
    const shop = await registerShop(h, {
      platform: 'shopify',
      shopDomain: 'policy-control.myshopify.com',
      webhookSecret: 'shpss_policy_control',
    });
    shopId = shop.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows the appliance share until the shop sets its own', async () => {
    const before = await api(h, 'GET', `/api/shops/${shopId}/settings`);
    expect(before.status).toBe(200);
    expect(before.body.effective.policyControl).toEqual({ percent: 15 });
    expect(before.body.stored.policyControl).toBeUndefined();

    const saved = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { policyControl: { percent: 30 } });
    expect(saved.status).toBe(200);
    const after = await api(h, 'GET', `/api/shops/${shopId}/settings`);
    expect(after.body.stored.policyControl).toEqual({ percent: 30 });
    expect(after.body.effective.policyControl).toEqual({ percent: 30 });
  });

  it('refuses a bad share, naming policyControl.percent', async () => {
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/settings`, { policyControl: { percent: 120 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('policyControl.percent');
    const kept = await api(h, 'GET', `/api/shops/${shopId}/settings`);
    expect(kept.body.effective.policyControl).toEqual({ percent: 30 });
  });
});
