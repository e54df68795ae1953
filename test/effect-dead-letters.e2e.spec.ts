/**
 * An effect request that keeps failing is parked as a dead letter, never dropped silently
 * (issue 11, item 1): a help desk whose calls always throw, EFFECT_MAX_ATTEMPTS=2. The request is
 * listed in the consumers' dead-letter registry (`effects`, with its error), `/health` is degraded
 * naming it, `/metrics` counts it, and the customer history records the parked ticket. The
 * dashboard's retry re-queues it with a fresh budget; once the help desk answers, the ticket is
 * opened and the dead letter is gone. Real engine on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import type { TicketPort, TicketRequest } from '@reclaim/ports';
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

const SECRET = 'shpss_effect_dead_letters';
const DOMAIN = 'effect-dead-letters.myshopify.com';

class HelpDeskExploded extends Error {
  override readonly name = 'HelpDeskExploded';
}

/** A help desk whose every call throws (not a provider error: the runner backs off), until fixed. */
class BrokenHelpDesk implements TicketPort {
  broken = true;
  calls = 0;
  readonly opened: TicketRequest[] = [];

  async open(request: TicketRequest): Promise<{ ticketId: string }> {
    this.calls++;
    if (this.broken) throw new HelpDeskExploded('the help desk library crashed');
    this.opened.push(request);
    return { ticketId: `T-${this.opened.length}` };
  }
}

interface DeadLetterRow {
  subscription: string;
  key: string;
  status: string;
  attempts: number;
  error: string;
  eventType: string;
  streamId: string;
}

describe('effect requests that keep failing become dead letters (real engine on PostgreSQL)', () => {
  const helpDesk = new BrokenHelpDesk();
  let h: Harness;
  let shopId: string;

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        TICKET_THRESHOLD: '100',
        EFFECT_MAX_ATTEMPTS: '2',
      },
      { adapters: { tickets: helpDesk } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_effect_dead_letters',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('parks the request with its error, shows it everywhere, and the retry re-queues it until it goes through', async () => {
    const email = 'parked@example.com';
    const token = `parked-${randomUUID()}`;
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
      return (r.body?.entries ?? []) as { kind: string; reason?: string; error?: string; attempt?: number }[];
    };
    const deadLetters = async () =>
      ((await api(h, 'GET', '/api/dashboard/dead-letters', undefined, ADMIN_TOKEN)).body as DeadLetterRow[]).filter(
        (d) => d.subscription === 'effects',
      );

    // Two attempts, then parked: listed with its error, on the recovery's history.
    const [parked] = await eventually(async () => {
      const list = await deadLetters();
      return list.some((d) => d.status === 'parked') ? list : undefined;
    }, 30_000);
    expect(helpDesk.calls).toBe(2);
    expect(parked).toMatchObject({
      status: 'parked',
      attempts: 2,
      error: 'HelpDeskExploded',
      eventType: 'effect:ticket',
      streamId: expect.stringContaining(`cart-${token}`),
    });
    const entry = await eventually(async () => (await history()).find((e) => e.kind === 'effect-parked'), 30_000);
    expect(entry).toMatchObject({ reason: 'ticket', error: 'HelpDeskExploded', attempt: 2 });

    // /health degraded naming the consumer and the count; /metrics counts it.
    const health = await (await fetch(`${h.baseUrl}/health`)).json();
    expect(JSON.stringify(health)).toContain('effects: 1 dead letter');
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/reclaim_dead_letters\{subscription="effects",status="parked"\} 1/);

    // Parked means set aside: no more calls while it waits.
    const { rows } = await h.runtime.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engine.effect_queue WHERE request_id = $1 AND done_at IS NULL`,
      [parked.key],
    );
    expect(rows[0].n).toBe(0);

    // The operator fixes the help desk and retries: re-queued with a fresh budget, opened, cleared.
    helpDesk.broken = false;
    const retried = await api(
      h,
      'POST',
      '/api/dashboard/dead-letters/retry',
      { subscription: 'effects', key: parked.key },
      ADMIN_TOKEN,
    );
    expect(retried.status).toBe(202);
    await eventually(async () => (await history()).some((e) => e.kind === 'ticket-opened'), 30_000);
    await eventually(async () => (await deadLetters()).length === 0, 30_000);
    expect(helpDesk.opened).toHaveLength(1);
    const after = await (await fetch(`${h.baseUrl}/health`)).json();
    expect(JSON.stringify(after)).not.toContain('effects:');
  });
});
