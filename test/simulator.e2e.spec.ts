/**
 * The shopper simulator against the real appliance (in-process, real adapters configured by
 * environment against the sandbox stand-ins), on an accelerated clock: ABANDON_AFTER=3s and
 * follow-ups 3 s / 6 s after abandonment. Then the invariants of issue 4, checked against the
 * event log, the SMTP sink, the Twilio, Zendesk and store stand-ins:
 *
 * - no message after purchase; at most one message per (recovery, step, channel);
 * - tickets only at or above TICKET_THRESHOLD, one per cart;
 * - every email carries List-Unsubscribe (+ One-Click) and the postal address;
 * - no discount code issued twice.
 *
 * Only polling (`eventually`), no timed assertions.
 */
import { Client } from 'pg';
import { startSandboxApp, type SandboxApp } from '../apps/sandbox/src/sandbox-app';
import { DEMO_CATALOGUE, mailBodies, ShopperSimulator, type SimJourney } from '../apps/sandbox/src/simulator';
import { ADMIN_TOKEN, eventually, startHarness, type Harness } from './support/harness';

const POSTAL = '1 Sandbox Street, Springfield 12345, USA';
const THRESHOLD = 200;

interface LoggedEvent {
  stream_id: string;
  type: string;
  data: Record<string, unknown> & { step?: number; channel?: string; messageId?: string; discountCode?: string };
}

describe('shopper simulator against the appliance (accelerated clock)', () => {
  let sandbox: SandboxApp;
  let h: Harness;
  let db: Client;
  let sim: ShopperSimulator;
  const simLog: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandboxApp({ catalogue: DEMO_CATALOGUE });
    h = await startHarness({
      ...sandbox.applianceEnv(),
      ABANDON_AFTER: '3s',
      FOLLOW_UP_DELAYS: '3s,6s',
      PURCHASE_GRACE: '1s',
      FREQUENCY_CAP: '10s',
      ATTRIBUTION_WINDOW: '1h',
      TIMER_TICK: '200ms',
      HOLDOUT_PERCENT: '10',
      TICKET_THRESHOLD: String(THRESHOLD),
      HIGH_VALUE_THRESHOLD: String(THRESHOLD),
      MERCHANT_POSTAL_ADDRESS: POSTAL,
    });
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    sim = new ShopperSimulator({
      applianceUrl: h.baseUrl,
      publicUrl: h.runtime.config.publicUrl,
      adminToken: ADMIN_TOKEN,
      sandbox,
      abandonAfterMs: 3_000,
      durationMs: 12_000,
      drainMs: 12_000,
      shoppersPerMinute: 120,
      customersPerShop: 16,
      // A discount in the email doubles the click rate; most buyers come back that way.
      seed: 4242,
      postalAddress: POSTAL,
      log: (line) => simLog.push(line),
    });
    await sim.run();
  }, 90_000);

  afterAll(async () => {
    sim?.stop();
    await db?.end();
    await h?.close();
    await sandbox?.stop();
  });

  async function recoveryEvents(): Promise<LoggedEvent[]> {
    const { rows } = await db.query<LoggedEvent>(
      `SELECT stream_id, type, data FROM event_store.events WHERE type LIKE 'recovery.%' ORDER BY global_position`,
    );
    return rows;
  }

  /** Emails recorded as sent, or as a late outcome (in flight when the recovery ended, kept for the audit). */
  const sentEmails = (events: LoggedEvent[]) =>
    events.filter(
      (e) =>
        (e.type === 'recovery.message-sent' || e.type === 'recovery.late-outcome') &&
        e.data.channel === 'email' &&
        e.data.messageId !== undefined,
    );

  it('drove real traffic: signed webhooks accepted, carts abandoned, emails, tickets and purchases', async () => {
    // Refused webhooks, STOP replies and API calls are logged as "answered <status>".
    expect(simLog.filter((l) => /answered|error/.test(l))).toEqual([]);
    expect(sim.stats.webhookFailures).toBe(0);
    expect(sim.stats.errors).toBe(0);
    expect(sim.stats.shoppers).toBeGreaterThanOrEqual(15);
    expect(sim.stats.abandoned).toBeGreaterThan(0);
    expect(sim.stats.boughtDirect + sim.stats.boughtOrganic + sim.stats.boughtAfterClick).toBeGreaterThan(0);
    expect(sandbox.providers.stores.mail.length).toBeGreaterThan(0);
    // Every shop was used and reached the appliance.
    expect(new Set(sim.journeys.map((j) => j.shop.platform))).toEqual(
      new Set(['shopify', 'bigcommerce', 'woocommerce']),
    );
  });

  it('every email in the sink is one recorded message: unique Message-ID, at most one per (recovery, step, channel)', async () => {
    // Sends in flight when the simulation stopped are recorded shortly after: wait for the log to catch up.
    const events = await eventually(async () => {
      const all = await recoveryEvents();
      const ids = new Set(sentEmails(all).map((e) => e.data.messageId));
      return sandbox.providers.stores.mail.every((m) => ids.has(m.headers['message-id'])) ? all : undefined;
    }, 20_000);
    const messageIds = sandbox.providers.stores.mail.map((m) => m.headers['message-id']);
    expect(new Set(messageIds).size).toBe(messageIds.length);

    const sent = events.filter((e) => e.type === 'recovery.message-sent');
    const keys = sent.map((e) => `${e.stream_id}|${e.data.step}|${e.data.channel}`);
    expect(new Set(keys).size).toBe(keys.length);
    // SMS: Twilio has no idempotency, so the stand-in must not hold more messages than were recorded as sent.
    // The wait yields an object: a run in which no SMS went out records 0, which must still end the wait.
    const { recorded: smsSent } = await eventually(async () => {
      const n = (await recoveryEvents()).filter(
        (e) =>
          (e.type === 'recovery.message-sent' || e.type === 'recovery.late-outcome') &&
          e.data.channel === 'sms' &&
          e.data.messageId !== undefined,
      ).length;
      return n >= sandbox.providers.stores.twilio.messages.length ? { recorded: n } : undefined;
    }, 20_000);
    expect(sandbox.providers.stores.twilio.messages.length).toBeLessThanOrEqual(smsSent);
  });

  it('no message after purchase: bought carts end their recovery, nothing is sent after the end', async () => {
    const bought = sim.journeys.filter((j): j is SimJourney & { bought: object } => j.bought !== undefined);
    expect(bought.length).toBeGreaterThan(0);
    const events = await eventually(async () => {
      const all = await recoveryEvents();
      const streams = new Set(all.map((e) => e.stream_id));
      // A cart bought before it was ever abandoned may have no started recovery; the others must end as purchased.
      const open = bought.filter(
        (j) =>
          streams.has(j.recoveryId) &&
          all.some((e) => e.stream_id === j.recoveryId && e.type === 'recovery.started') &&
          !all.some((e) => e.stream_id === j.recoveryId && e.type === 'recovery.ended'),
      );
      return open.length === 0 ? all : undefined;
    }, 20_000);
    for (const j of bought) {
      const stream = events.filter((e) => e.stream_id === j.recoveryId);
      const ended = stream.findIndex((e) => e.type === 'recovery.ended');
      if (stream.some((e) => e.type === 'recovery.started')) {
        expect(stream[ended]?.data).toMatchObject({ reason: expect.stringMatching(/^purchased/) });
      }
    }
    for (const stream of new Set(events.map((e) => e.stream_id))) {
      const list = events.filter((e) => e.stream_id === stream);
      const ended = list.findIndex((e) => e.type === 'recovery.ended');
      if (ended >= 0) expect(list.slice(ended + 1).filter((e) => e.type === 'recovery.message-sent')).toEqual([]);
    }
  });

  it('tickets only for carts at or above the threshold, one per cart', async () => {
    const byRecovery = new Map(sim.journeys.map((j) => [j.recoveryId, j]));
    const tickets = [...sandbox.providers.stores.zendesk.tickets, ...sandbox.providers.stores.gorgias.tickets];
    const events = await recoveryEvents();
    const requested = events.filter((e) => e.type === 'recovery.ticket-requested');
    for (const e of requested) {
      expect(Number(byRecovery.get(e.stream_id)?.total)).toBeGreaterThanOrEqual(THRESHOLD);
    }
    const externalIds = tickets.map((t) => t.external_id ?? '');
    expect(new Set(externalIds).size).toBe(externalIds.length);
    for (const id of externalIds) {
      const journey = byRecovery.get(id.replace(/:ticket$/, ''));
      expect(journey).toBeDefined();
      expect(Number(journey?.total)).toBeGreaterThanOrEqual(THRESHOLD);
    }
    // Every high-value cart that was abandoned outside the holdout got its ticket.
    const started = events.filter((e) => e.type === 'recovery.started' && e.data['holdout'] !== true);
    const expected = started.filter((e) => Number(byRecovery.get(e.stream_id)?.total) >= THRESHOLD);
    expect(expected.length).toBeGreaterThan(0);
    await eventually(async () => {
      const ids = new Set(
        [...sandbox.providers.stores.zendesk.tickets, ...sandbox.providers.stores.gorgias.tickets].map(
          (t) => t.external_id,
        ),
      );
      return expected.every((e) => ids.has(`${e.stream_id}:ticket`));
    }, 20_000);
  });

  it('every email has List-Unsubscribe (one-click) headers and the postal address', () => {
    const mail = sandbox.providers.stores.mail;
    expect(mail.length).toBeGreaterThan(0);
    for (const m of mail) {
      expect(m.headers['list-unsubscribe']).toMatch(/^<https?:\/\/[^>]+\/u\/[^>]+>$/);
      expect(m.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      const { text, html } = mailBodies(m.raw);
      expect(text).toContain('1 Sandbox Street');
      expect(html).toContain('1 Sandbox Street');
    }
  });

  it('no discount code issued twice (log and stores)', async () => {
    const codes = (await recoveryEvents())
      .filter((e) => e.type === 'recovery.message-sent' && e.data.discountCode !== undefined)
      .map((e) => (e.data.discountCode as string).toUpperCase());
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes).size).toBe(codes.length);
    const state = sandbox.stores.state;
    const storeCodes = [
      ...[...state.shopify.discounts.values()].map((d) => d.code),
      ...[...state.bigcommerce.coupons.values()].map((c) => String(c['code'])),
      ...[...state.bigcommerce.promotionCodes.values()].map((c) => c.code),
      ...[...state.woocommerce.coupons.values()].map((c) => String(c['code'])),
    ].map((c) => c.toUpperCase());
    expect(new Set(storeCodes).size).toBe(storeCodes.length);
    for (const code of codes) expect(storeCodes).toContain(code);
  });
});
