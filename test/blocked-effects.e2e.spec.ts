/**
 * Tickets and profile pushes blocked by a provider error are visible like steps are (issue 11,
 * item 5): the help desk and the marketing platform answer 503 for a while; the customer history
 * says what is waiting and why (`effect-deferred`, once per request), the dashboard's attention
 * list names the ticket and the profile push as blocked with the error and since when, and once the
 * providers answer again the ticket is opened and the list is clear. Real engine on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import {
  RetryableProviderError,
  type RecoveryProfileContext,
  type RecoveryProfileSync,
  type TicketPort,
  type TicketRequest,
} from '@reclaim/ports';
import {
  ADMIN_TOKEN,
  ANALYST_TOKEN,
  api,
  eventually,
  hmacBase64,
  post,
  startHarness,
  type Harness,
} from './support/harness';
import { shopifyCheckout } from './support/payloads';

const SECRET = 'shpss_blocked_effects_secret';
const DOMAIN = 'blocked-effects.myshopify.com';

/** A help desk and a marketing platform that answer 503 until told otherwise. */
class FlakyProviders implements TicketPort, RecoveryProfileSync {
  down = true;
  readonly tickets: TicketRequest[] = [];
  readonly pushes: RecoveryProfileContext[] = [];
  calls = { ticket: 0, profile: 0 };

  async open(request: TicketRequest): Promise<{ ticketId: string }> {
    this.calls.ticket++;
    if (this.down) throw new RetryableProviderError('zendesk: 503', 200, '503');
    this.tickets.push(request);
    return { ticketId: `T-${this.tickets.length}` };
  }

  async push(_email: string, context: RecoveryProfileContext): Promise<void> {
    this.calls.profile++;
    if (this.down) throw new RetryableProviderError('klaviyo: 503', 200, '503');
    this.pushes.push(context);
  }
}

interface StuckRow {
  recoveryId: string;
  cartId: string | null;
  customerKey: string | null;
  step: number | null;
  effect?: string;
  status: string;
  reason: string | null;
  detail: string | null;
  attempts: number;
  since: string | null;
}

describe('tickets and profile pushes blocked by a provider error (real engine on PostgreSQL)', () => {
  const providers = new FlakyProviders();
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness(
      { ABANDON_AFTER: '1s', HOLDOUT_PERCENT: '0', TIMER_TICK: '200ms', TICKET_THRESHOLD: '100' },
      { adapters: { tickets: providers, profiles: providers } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_blocked_effects',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('shows them in the history and the attention list while blocked, and clears the list once they go through', async () => {
    const email = 'blocked@example.com';
    const token = `blocked-${randomUUID()}`;
    const body = shopifyCheckout({ token, updatedAt: new Date().toISOString(), email, price: '249.00', phone: null });
    const res = await post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': 'checkouts/update',
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
    expect(res.status).toBe(200);

    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const history = async () => {
      const r = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
      return (r.body?.entries ?? []) as { kind: string; reason?: string; detail?: string }[];
    };
    const stuck = async () =>
      (await api(h, 'GET', `/api/dashboard/stuck-steps?shopId=${shopId}`, undefined, ADMIN_TOKEN)).body as StuckRow[];

    // While the providers fail: in the history (why it waits) and in the attention list.
    const deferred = await eventually(async () => {
      const list = (await history()).filter((e) => e.kind === 'effect-deferred');
      return list.some((e) => e.reason === 'ticket') && list.some((e) => e.reason === 'profile') ? list : undefined;
    }, 30_000);
    expect(deferred.find((e) => e.reason === 'ticket')?.detail).toBe('RetryableProviderError:503');
    expect(deferred.find((e) => e.reason === 'profile')?.detail).toBe('RetryableProviderError:503');
    const blocked = await eventually(async () => {
      const rows = (await stuck()).filter((r) => r.effect !== undefined);
      return rows.some((r) => r.effect === 'ticket') && rows.some((r) => r.effect === 'profile') ? rows : undefined;
    }, 30_000);
    const ticketRow = blocked.find((r) => r.effect === 'ticket') as StuckRow;
    expect(ticketRow).toMatchObject({
      status: 'blocked',
      step: null,
      reason: 'ticket',
      detail: 'ticket: RetryableProviderError:503',
      cartId: `cart-${token}`,
      customerKey: key,
    });
    expect(ticketRow.attempts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(ticketRow.since as string)).not.toBeNaN();

    // The retries keep failing for a while: still one history entry per request, not one per retry.
    await eventually(async () => providers.calls.ticket >= 3, 30_000);
    const ticketEntries = (await history()).filter((e) => e.kind === 'effect-deferred' && e.reason === 'ticket');
    expect(ticketEntries).toHaveLength(1);

    // The providers answer again: the ticket is opened, the pushes go through, nothing is listed.
    providers.down = false;
    await eventually(async () => (await history()).some((e) => e.kind === 'ticket-opened'), 30_000);
    await eventually(async () => (await stuck()).filter((r) => r.effect !== undefined).length === 0, 30_000);
    expect(providers.tickets).toHaveLength(1);
    expect(providers.pushes.length).toBeGreaterThanOrEqual(1);
  });
});
