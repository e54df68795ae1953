/**
 * The quick start's printed steps (`npm run quickstart`) work as printed: the shop registration and
 * its settings are accepted, the signed sample checkout is accepted, and a recovery e-mail for it
 * follows after ABANDON_AFTER (here into the outbox; the quick start itself uses the SMTP sink).
 */
import { QUICKSTART_SETTINGS, QUICKSTART_SHOP, sampleCheckout } from '../apps/sandbox/src/quickstart-steps';
import { api, eventually, post, startHarness, type Harness } from './support/harness';

describe('the quick start walk-through', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ ABANDON_AFTER: '1s', TIMER_TICK: '200ms' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('registers the sample shop, takes the signed checkout and sends the first e-mail', async () => {
    const created = await api(h, 'POST', '/api/shops', {
      ...QUICKSTART_SHOP,
      apiUrl: 'http://127.0.0.1:4010/shopify/admin/api/2025-10',
      apiToken: 'shpat_sandbox_0000000000000000',
    });
    expect(created.status).toBe(201);
    const shopId = created.body.id as string;
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, QUICKSTART_SETTINGS);
    expect([settings.status, settings.body.errors]).toEqual([200, undefined]);

    const email = 'ada.quickstart@example.com';
    const checkout = sampleCheckout(email);
    const accepted = await post(h, '/webhooks/shopify', checkout.body, checkout.headers);
    expect(accepted.status).toBe(200);

    const sent = await eventually(async () => {
      const res = await api(h, 'GET', `/api/shops/${shopId}/outbox`);
      return (res.body as { step: number; channel: string }[]).find((m) => m.step === 0 && m.channel === 'email');
    }, 30_000);
    expect(sent).toBeDefined();
    // The outbox row is written during the send; the history's entry once the outcome is recorded.
    const history = await eventually(async () => {
      const res = await api(h, 'POST', `/api/customers/${shopId}/history`, { email });
      return res.body.entries.some((e: { kind: string }) => e.kind === 'sent') ? res : undefined;
    }, 10_000);
    expect(history.body.entries.some((e: { kind: string }) => e.kind === 'sent')).toBe(true);
  });
});
