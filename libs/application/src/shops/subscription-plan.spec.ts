import type { PlatformSubscription, WantedSubscription } from '@reclaim/ports';
import { assessSubscriptions, ownedSubscriptionIds } from './subscription-plan';

const ADDRESS = 'https://reclaim.example.com/webhooks/shopify';
const wanted: WantedSubscription[] = [
  { topic: 'ORDERS_CREATE', address: ADDRESS },
  { topic: 'CARTS_UPDATE', address: ADDRESS },
  { topic: 'CUSTOMERS_CREATE', address: ADDRESS },
  { topic: 'shop/redact', address: ADDRESS, manual: 'set it in the app configuration' },
];
const sub = (id: string, topic: string, over: Partial<PlatformSubscription> = {}): PlatformSubscription => ({
  id,
  topic,
  address: ADDRESS,
  format: 'json',
  active: true,
  secret: 'not-applicable',
  ...over,
});

describe('assessSubscriptions', () => {
  it('given the exact subscriptions, when assessed, then all ok and the manual one says what to do', () => {
    const states = assessSubscriptions(
      wanted,
      [sub('1', 'ORDERS_CREATE'), sub('2', 'CARTS_UPDATE'), sub('3', 'CUSTOMERS_CREATE')],
      {},
    );
    expect(states.map((s) => s.state)).toEqual(['ok', 'ok', 'ok', 'manual']);
    expect(states[3]?.instructions).toMatch(/app configuration/);
  });

  it('given a recorded subscription moved elsewhere, when assessed, then it is drifted (address), not missing', () => {
    const states = assessSubscriptions(
      wanted,
      [
        sub('1', 'ORDERS_CREATE', { address: 'https://old.example.com/webhooks/shopify' }),
        sub('3', 'CUSTOMERS_CREATE', { format: 'xml', active: false, secret: 'other' }),
      ],
      { ORDERS_CREATE: '1' },
    );
    expect(states[0]).toMatchObject({ state: 'drifted', drift: ['address'], id: '1' });
    expect(states[1]).toMatchObject({ state: 'missing' });
    expect(states[2]).toMatchObject({ state: 'drifted', drift: ['format', 'inactive', 'secret'] });
  });

  it('given somebody else’s subscription to the same topic, when assessed, then ours is missing and theirs left alone', () => {
    const other = sub('9', 'ORDERS_CREATE', { address: 'https://another-app.example.com/hook' });
    expect(assessSubscriptions(wanted, [other], {})[0]?.state).toBe('missing');
    expect(ownedSubscriptionIds(wanted, [other], {})).toEqual([]);
  });

  it('owned ids: every subscription to our address and every recorded one', () => {
    const existing = [
      sub('1', 'ORDERS_CREATE'),
      sub('2', 'X', { address: 'https://old.example.com' }),
      sub('3', 'Y', { address: 'https://x' }),
    ];
    expect(ownedSubscriptionIds(wanted, existing, { CARTS_UPDATE: '2' })).toEqual(['1', '2']);
  });
});
