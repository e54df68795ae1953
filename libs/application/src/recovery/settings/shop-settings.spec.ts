import { defaultRecoveryConfig } from '@reclaim/domain';
import { shopRecoveryConfig, validateShopSettings } from './shop-settings';

describe('per-shop settings: fatigue and UTM', () => {
  it('a fatigue setting overrides the defaults field by field', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).fatigue).toEqual(defaultRecoveryConfig.fatigue);
    const c = shopRecoveryConfig(defaultRecoveryConfig, {
      fatigue: { enabled: true, threshold: 5, windowDays: 14, countOwnSteps: true },
    });
    expect(c.fatigue).toEqual({
      ...defaultRecoveryConfig.fatigue,
      threshold: 5,
      windowMs: 14 * 86_400_000,
      countOwnSteps: true,
    });
    expect(shopRecoveryConfig(defaultRecoveryConfig, { fatigue: { enabled: false } }).fatigue.enabled).toBe(false);
  });

  it('bad fatigue and UTM settings are refused naming each field', () => {
    expect(
      validateShopSettings({
        fatigue: { enabled: true, threshold: 4, windowDays: 60, maxSteps: 1, countOwnSteps: false },
        utm: { source: 'shop' },
      }),
    ).toEqual([]);
    const errors = validateShopSettings({
      fatigue: { enabled: 'no', threshold: 0, windowDays: 400, maxSteps: 1.5, countOwnSteps: 1, opens: true },
      utm: { medium: { email: '' } },
    });
    expect(errors.map((e) => e.field).sort()).toEqual([
      'fatigue.countOwnSteps',
      'fatigue.enabled',
      'fatigue.maxSteps',
      'fatigue.opens',
      'fatigue.threshold',
      'fatigue.windowDays',
      'utm.medium.email',
    ]);
    expect(validateShopSettings({ fatigue: 3 })).toEqual([{ field: 'fatigue', message: expect.any(String) }]);
  });
});

describe("per-shop settings: the customer's own support tickets", () => {
  it('help copy (default) or pause, and which open tickets count', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {})).toMatchObject({
      pauseWhileTicketOpen: false,
      supportTicketMatch: 'mentions',
    });
    expect(
      shopRecoveryConfig(defaultRecoveryConfig, { pauseWhileTicketOpen: true, supportTicketMatch: 'any' }),
    ).toMatchObject({ pauseWhileTicketOpen: true, supportTicketMatch: 'any' });
    expect(validateShopSettings({ pauseWhileTicketOpen: true, supportTicketMatch: 'any' })).toEqual([]);
    expect(validateShopSettings({ pauseWhileTicketOpen: 'yes', supportTicketMatch: 'product' })).toEqual([
      { field: 'pauseWhileTicketOpen', message: 'must be a boolean' },
      { field: 'supportTicketMatch', message: 'must be mentions or any' },
    ]);
  });
});
