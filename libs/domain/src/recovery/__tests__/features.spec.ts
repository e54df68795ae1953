import { featuresAtAbandonment, RECOVERY_FEATURES_SCHEMA } from '../features';
import { segment } from '../segments';

const thresholds = { highValueCart: '200', vipMinOrders: 5, vipMinTotalSpent: '1000' };

describe('the feature vector recorded at abandonment', () => {
  it('names what was known then: cart, customer history, local time, stage, engagement', () => {
    const segmentation = segment(
      {
        ordersCount: 3,
        totalSpent: '250.50',
        lastPurchaseAt: '2026-02-24T06:30:00.000Z',
        previousAbandonments: 2,
        previousRecoveries: 1,
        discountOrdersCount: 1,
        categoriesBought: ['shoes'],
        ignoredRecoveryMessages: 4,
      },
      {
        value: '89.90',
        categories: ['socks', 'hats'],
        itemCount: 3,
        device: 'mobile',
        trafficSource: 'email',
        checkoutStage: 'shipping',
      },
      thresholds,
    );
    expect(RECOVERY_FEATURES_SCHEMA).toBe(1);
    // 18:30 UTC on Friday 6 March 2026 is 19:30 in Paris.
    expect(featuresAtAbandonment(segmentation, '2026-03-06T18:30:00.000Z', 'EUR', 'Europe/Paris')).toEqual({
      cart_value: '89.90',
      currency: 'EUR',
      item_count: 3,
      categories: 'hats|socks',
      category_count: 2,
      returning: true,
      orders_count: 3,
      total_spent: '250.50',
      days_since_last_purchase: 10,
      previous_abandonments: 2,
      previous_recoveries: 1,
      discount_orders: 1,
      device: 'mobile',
      traffic_source: 'email',
      local_hour: 19,
      local_weekday: 5,
      checkout_stage: 'shipping',
      ignored_recovery_messages: 4,
    });
  });

  it('records unknowns as null, not as made-up values', () => {
    const segmentation = segment(
      {
        ordersCount: 0,
        totalSpent: '0',
        previousAbandonments: 0,
        previousRecoveries: 0,
        discountOrdersCount: 0,
        categoriesBought: [],
      },
      { value: '10.00', categories: [], itemCount: 1, device: 'unknown' },
      thresholds,
    );
    const f = featuresAtAbandonment(segmentation, '2026-03-08T23:30:00.000Z', 'USD', 'Not/AZone');
    expect(f).toMatchObject({
      returning: false,
      days_since_last_purchase: null,
      traffic_source: null,
      local_hour: null,
      local_weekday: null,
      checkout_stage: null,
      ignored_recovery_messages: null,
      categories: '',
    });
    // The zone decides the local day: 23:30 UTC on Sunday is already Monday in Tokyo.
    expect(featuresAtAbandonment(segmentation, '2026-03-08T23:30:00.000Z', 'USD', 'Asia/Tokyo').local_weekday).toBe(1);
  });
});
