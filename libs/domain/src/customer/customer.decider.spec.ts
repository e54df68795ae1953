import fc from 'fast-check';
import { DeciderSpecification } from '@reclaim/testing';
import type {
  ChangeMarketingConsentCommand,
  CustomerCommand,
  CustomerEvent,
  RedactCustomerCommand,
  RequestCustomerDataCommand,
  UpsertCustomerCommand,
} from './customer.messages';
import type { ConsentState } from '../inbound/inbound-types';
import { InvalidCommandError, foldEvents } from '../shared/decider';
import type { SealedValue } from '../shared/sealed-value';
import { customerDecider, hasMarketingConsent, type CustomerState } from './customer.decider';

const shopId = '4f1c1f43-7f6e-4d52-9a34-3c9a0f5b2a10';
const customerKey = 'e-5f2b9c0d11aa22bb33cc44dd55ee66ff';
const sealed: SealedValue = { $sealed: 'aes-256-gcm/v1', subject: customerKey, iv: 'AAAA', ct: 'BBBB', tag: 'CCCC' };
const spec = DeciderSpecification.for(customerDecider);
const at = (minute: number): string => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
const received = (minute: number): string => `2026-03-01T10:${String(minute).padStart(2, '0')}:30.000Z`;

const upsert = (n: number, over: Partial<UpsertCustomerCommand> = {}): UpsertCustomerCommand => ({
  type: 'UpsertCustomer',
  platform: 'shopify',
  shopId,
  customerKey,
  causationId: `upsert-${n}`,
  receivedAt: received(n),
  platformUpdatedAt: at(n),
  customer: { platformCustomerId: '9007199254740993' },
  contact: sealed,
  reach: { email: true, sms: true },
  ordersCount: 3,
  totalSpent: '120.50',
  currency: 'USD',
  tags: ['vip'],
  ...over,
});

const consent = (
  n: number,
  channel: 'email' | 'sms',
  state: ConsentState,
  consentMinute = n,
): ChangeMarketingConsentCommand => ({
  type: 'ChangeMarketingConsent',
  platform: 'shopify',
  shopId,
  customerKey,
  causationId: `consent-${channel}-${n}`,
  receivedAt: received(n),
  platformUpdatedAt: at(n),
  customer: {},
  reach: { email: true, sms: true },
  channel,
  consent: { state, updatedAt: at(consentMinute), source: 'shopify:storefront', optInLevel: 'single_opt_in' },
});

const redact = (n: number): RedactCustomerCommand => ({
  type: 'RedactCustomer',
  platform: 'shopify',
  shopId,
  customerKey,
  causationId: `redact-${n}`,
  receivedAt: received(n),
  platformUpdatedAt: at(n),
  customer: {},
  reach: { email: false, sms: false },
  orderIds: ['o1'],
});

const dataRequest = (n: number): RequestCustomerDataCommand => ({
  type: 'RequestCustomerData',
  platform: 'shopify',
  shopId,
  customerKey,
  causationId: `data-request-${n}`,
  receivedAt: received(n),
  platformUpdatedAt: at(n),
  customer: {},
  reach: { email: false, sms: false },
  dataRequestId: 'dr-1',
  orderIds: [],
});

function run(commands: readonly CustomerCommand[]): { state: CustomerState; events: CustomerEvent[] } {
  const events: CustomerEvent[] = [];
  let state = customerDecider.initialState();
  for (const c of commands) {
    const produced = customerDecider.decide(c, state);
    for (const e of produced) state = customerDecider.evolve(state, e);
    events.push(...produced);
  }
  return { state, events };
}

describe('customer decider', () => {
  it('upserts a customer with sealed contact, totals and tags', () => {
    spec
      .given([])
      .when(upsert(1))
      .then([
        {
          type: 'customer.upserted',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'upsert-1',
            receivedAt: received(1),
            platform: 'shopify',
            platformUpdatedAt: at(1),
            customerKey,
            platformCustomerId: '9007199254740993',
            contact: sealed,
            reach: { email: true, sms: true },
            ordersCount: 3,
            totalSpent: '120.5',
            currency: 'USD',
            tags: ['vip'],
          },
        },
      ]);
    const { state } = run([upsert(1, { createdAt: '2025-01-01T00:00:00Z' })]);
    expect(state).toMatchObject({
      status: 'known',
      ordersCount: 3,
      totalSpent: '120.5',
      firstSeenAt: '2025-01-01T00:00:00.000Z',
    });
  });

  it('ignores a stale or duplicate profile update', () => {
    const given = run([upsert(5)]).events;
    spec
      .given(given)
      .when(upsert(4, { tags: ['old'] }))
      .thenNothing();
    spec.given(given).when(upsert(5)).thenNothing();
  });

  it('refuses bad totals', () => {
    spec
      .given([])
      .when(upsert(1, { totalSpent: '12,50' }))
      .thenThrows(InvalidCommandError, (e) => e.field === 'totalSpent');
    spec
      .given([])
      .when(upsert(1, { ordersCount: -1 }))
      .thenThrows(InvalidCommandError, (e) => e.field === 'ordersCount');
  });

  it('records consent per channel with its source and time (the evidence a send relies on)', () => {
    const { state } = run([upsert(1), consent(2, 'email', 'subscribed'), consent(3, 'sms', 'unsubscribed')]);
    expect(state.consent.email).toEqual({
      state: 'subscribed',
      optInLevel: 'single_opt_in',
      source: 'shopify:storefront',
      consentUpdatedAt: at(2),
      recordedAt: received(2),
      causationId: 'consent-email-2',
    });
    expect(hasMarketingConsent(state, 'email')).toBe(true);
    expect(hasMarketingConsent(state, 'sms')).toBe(false);
  });

  it('does not let a stale subscription undo a later opt-out, in either arrival order', () => {
    const subscribeEarly = consent(2, 'email', 'subscribed', 2);
    const optOutLater = consent(3, 'email', 'unsubscribed', 3);
    expect(run([upsert(1), subscribeEarly, optOutLater]).state.consent.email?.state).toBe('unsubscribed');
    expect(run([upsert(1), optOutLater, subscribeEarly]).state.consent.email?.state).toBe('unsubscribed');
    spec
      .given(run([optOutLater]).events)
      .when(subscribeEarly)
      .thenNothing();
  });

  it('orders consent carried by profile upserts on the consent time, not the arrival order', () => {
    const optOut = upsert(5, { emailConsent: { state: 'unsubscribed', updatedAt: at(5) } });
    const staleSubscribe = upsert(4, { emailConsent: { state: 'subscribed', updatedAt: at(4) }, causationId: 'late' });
    const { state, events } = run([optOut, staleSubscribe]);
    expect(state.consent.email?.state).toBe('unsubscribed');
    expect(state.consent.email?.source).toBe('shopify:customer');
    expect(events.map((e) => e.type)).toEqual(['customer.upserted', 'customer.consent-changed']);
  });

  it('final consent is the one with the latest consent time for every arrival order', () => {
    const changes = [
      consent(1, 'sms', 'subscribed'),
      consent(2, 'sms', 'unsubscribed'),
      consent(3, 'sms', 'subscribed'),
      consent(4, 'sms', 'unsubscribed'),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(changes, { minLength: 4, maxLength: 4 }), (order) => {
        const { state } = run([upsert(0), ...order]);
        expect(state.consent.sms?.state).toBe('unsubscribed');
        expect(state.consent.sms?.consentUpdatedAt).toBe(at(4));
      }),
    );
  });

  it('records a newer confirmation of the same state, and nothing for an older one', () => {
    const given = run([consent(2, 'email', 'subscribed')]).events;
    const [e] = customerDecider.decide(consent(3, 'email', 'subscribed'), foldEvents(customerDecider, given));
    expect(e).toMatchObject({
      type: 'customer.consent-changed',
      data: { state: 'subscribed', previousState: 'subscribed', consentUpdatedAt: at(3) },
    });
    spec
      .given(given)
      .when(consent(1, 'email', 'subscribed'))
      .thenNothing();
  });

  it('clamps a consent time a year ahead so a later opt-out still applies', () => {
    const future = consent(2, 'email', 'subscribed');
    const wedged = { ...future, consent: { ...future.consent, updatedAt: '2027-06-01T00:00:00Z' } };
    expect(run([upsert(1), wedged, consent(3, 'email', 'unsubscribed')]).state.consent.email?.state).toBe(
      'unsubscribed',
    );
  });

  it('redaction forgets personal data and consent; only a newer upsert re-creates data', () => {
    const redacted = run([upsert(1), consent(2, 'email', 'subscribed'), redact(3)]);
    expect(redacted.state).toMatchObject({
      status: 'redacted',
      reach: { email: false, sms: false },
      consent: {},
      tags: [],
    });
    expect(redacted.state.contact).toBeUndefined();
    expect(hasMarketingConsent(redacted.state, 'email')).toBe(false);
    spec
      .given(redacted.events)
      .when(consent(4, 'email', 'subscribed'))
      .thenNothing();
    spec
      .given(redacted.events)
      .when(upsert(2, { causationId: 'retried-old-upsert' }))
      .thenNothing();
    spec.given(redacted.events).when(redact(5)).thenNothing();
    const recreated = run([upsert(1), consent(2, 'email', 'subscribed'), redact(3), upsert(6)]);
    expect(recreated.state.status).toBe('known');
    expect(recreated.state.contact).toEqual(sealed);
    expect(recreated.state.consent).toEqual({});
  });

  it('records a redaction of a customer it has never seen, so older updates are refused', () => {
    const { state, events } = run([redact(5), upsert(4)]);
    expect(events.map((e) => e.type)).toEqual(['customer.redacted']);
    expect(state.status).toBe('redacted');
  });

  it('records every data request once per delivery', () => {
    spec
      .given([])
      .when(dataRequest(1))
      .then([
        {
          type: 'customer.data-requested',
          schemaVersion: 1,
          data: {
            shopId,
            causationId: 'data-request-1',
            receivedAt: received(1),
            customerKey,
            platform: 'shopify',
            dataRequestId: 'dr-1',
            orderIds: [],
            requestedAt: at(1),
          },
        },
      ]);
    const given = run([dataRequest(1)]).events;
    spec.given(given).when(dataRequest(1)).thenNothing();
    expect(foldEvents(customerDecider, [...given, ...run([dataRequest(2)]).events]).dataRequests).toBe(2);
  });
});
