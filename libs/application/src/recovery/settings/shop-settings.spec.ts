import { DEFAULT_ALTERNATIVE_RULES, defaultRecoveryConfig, defaultSequences } from '@reclaim/domain';
import {
  shopRecoveryConfig,
  validateEffectiveRouting,
  validateRoutingSequences,
  validateShopSettings,
} from './shop-settings';

describe('per-shop settings: routing by score', () => {
  it('overrides the bands field by field, sequences one by one', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).routing).toEqual({
      enabled: true,
      highProbability: 0.6,
      lowProbability: 0.2,
      highValue: '200',
      sequences: { personal: 'short', short: 'short', nurture: 'nurture' },
    });
    const c = shopRecoveryConfig(defaultRecoveryConfig, {
      routing: { highProbability: 0.7, highValue: '350.00', sequences: { personal: 'premium' } },
    });
    expect(c.routing).toEqual({
      enabled: true,
      highProbability: 0.7,
      lowProbability: 0.2,
      highValue: '350.00',
      sequences: { personal: 'premium', short: 'short', nurture: 'nurture' },
    });
    expect(shopRecoveryConfig(defaultRecoveryConfig, { routing: { enabled: false } }).routing.enabled).toBe(false);
  });

  it('refuses bad routing settings naming each field', () => {
    expect(
      validateShopSettings({
        routing: {
          enabled: true,
          highProbability: 0.7,
          lowProbability: 0.1,
          highValue: '300',
          sequences: { nurture: 'welcome' },
        },
      }),
    ).toEqual([]);
    const errors = validateShopSettings({
      routing: {
        enabled: 'yes',
        highProbability: 1.2,
        lowProbability: 0,
        highValue: 300,
        sequences: { nurture: 'Not An Id', vip: 'premium' },
        bands: 3,
      },
    });
    expect(errors.map((e) => e.field).sort()).toEqual([
      'routing.bands',
      'routing.enabled',
      'routing.highProbability',
      'routing.highValue',
      'routing.lowProbability',
      'routing.sequences.nurture',
      'routing.sequences.vip',
    ]);
    expect(validateShopSettings({ routing: { highProbability: 0.3, lowProbability: 0.5 } })).toEqual([
      { field: 'routing.lowProbability', message: 'must be below highProbability' },
    ]);
    expect(validateShopSettings({ routing: 'on' })).toEqual([{ field: 'routing', message: expect.any(String) }]);
  });

  it('with one threshold given, checks it against the default of the other', () => {
    expect(validateEffectiveRouting(defaultRecoveryConfig, { routing: { lowProbability: 0.5 } })).toEqual([]);
    expect(validateEffectiveRouting(defaultRecoveryConfig, { routing: { lowProbability: 0.6 } })).toEqual([
      { field: 'routing.lowProbability', message: 'must be below highProbability (0.6)' },
    ]);
    expect(validateEffectiveRouting(defaultRecoveryConfig, { routing: { highProbability: 0.15 } })).toEqual([
      { field: 'routing.highProbability', message: 'must be above lowProbability (0.2)' },
    ]);
  });

  it('the sequences it names must be in the shop catalogue', () => {
    const catalogue = defaultSequences(defaultRecoveryConfig);
    expect(validateRoutingSequences({ routing: { sequences: { personal: 'premium' } } }, catalogue)).toEqual([]);
    expect(validateRoutingSequences({ routing: { sequences: { nurture: 'slow-burn' } } }, catalogue)).toEqual([
      {
        field: 'routing.sequences.nurture',
        message:
          "'slow-burn' is not in the shop's sequence catalogue (version 1: premium, loyalty, welcome, short, nurture)",
      },
    ]);
    const without = { version: 2, sequences: catalogue.sequences.filter((q) => q.id !== 'premium') };
    expect(validateRoutingSequences({ routing: { sequences: { personal: 'premium' } } }, without, 'sequences')).toEqual(
      [
        {
          field: 'sequences',
          message:
            "must keep 'premium': the shop's routing.sequences.personal names it (change the routing settings first)",
        },
      ],
    );
  });
});

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

describe('per-shop settings: engagement score and channel choice (RFC 0013)', () => {
  it('override the defaults field by field; costs per channel', () => {
    const c = shopRecoveryConfig(defaultRecoveryConfig, {
      engagementScore: { minMessages: 6, unresponsiveBelow: 0.08 },
      channelChoice: { costs: { sms: 0.12 }, minMessages: 50 },
    });
    expect(c.engagementScore).toEqual({
      ...defaultRecoveryConfig.engagementScore,
      minMessages: 6,
      unresponsiveBelow: 0.08,
    });
    expect(c.channelChoice).toEqual({
      ...defaultRecoveryConfig.channelChoice,
      minMessages: 50,
      costs: { email: 0.001, sms: 0.12, push: 0 },
    });
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).channelChoice).toEqual(defaultRecoveryConfig.channelChoice);
  });

  it('bad values are refused naming each field', () => {
    expect(
      validateShopSettings({
        engagementScore: { enabled: true, priorStrength: 8, minMessages: 3, unresponsiveBelow: 0.1, engagedFrom: 0.6 },
        channelChoice: {
          enabled: false,
          costs: { email: 0, sms: 0.07, push: 0.01 },
          priorStrength: 20,
          minMessages: 5,
        },
      }),
    ).toEqual([]);
    const errors = validateShopSettings({
      engagementScore: { enabled: 'yes', minMessages: 0, unresponsiveBelow: 1.5, engagedFrom: 0, weight: 2 },
      channelChoice: { costs: { sms: -1, fax: 1 }, minMessages: 2.5 },
    });
    expect(errors.map((e) => e.field).sort()).toEqual([
      'channelChoice.costs.fax',
      'channelChoice.costs.sms',
      'channelChoice.minMessages',
      'engagementScore.enabled',
      'engagementScore.engagedFrom',
      'engagementScore.minMessages',
      'engagementScore.unresponsiveBelow',
      'engagementScore.weight',
    ]);
    expect(validateShopSettings({ engagementScore: { unresponsiveBelow: 0.5, engagedFrom: 0.4 } })).toEqual([
      { field: 'engagementScore.engagedFrom', message: 'must be above unresponsiveBelow' },
    ]);
    expect(validateShopSettings({ channelChoice: { costs: 3 } })).toEqual([
      { field: 'channelChoice.costs', message: 'must be { email?, sms?, push? }' },
    ]);
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

describe('per-shop settings: the price rule of out-of-stock alternatives', () => {
  it('defaults to 20% dearer at most; a shop sets its own', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).alternatives ?? DEFAULT_ALTERNATIVE_RULES).toEqual({
      maxPriceIncreasePercent: 20,
    });
    expect(
      shopRecoveryConfig(defaultRecoveryConfig, { alternatives: { maxPriceIncreasePercent: 0 } }).alternatives,
    ).toEqual({ maxPriceIncreasePercent: 0 });
    expect(validateShopSettings({ alternatives: { maxPriceIncreasePercent: 35 } })).toEqual([]);
    expect(validateShopSettings({ alternatives: { maxPriceIncreasePercent: -1, cheaperOnly: true } })).toEqual([
      { field: 'alternatives.cheaperOnly', message: 'is not an alternatives setting' },
      { field: 'alternatives.maxPriceIncreasePercent', message: 'must be a number from 0 to 1000' },
    ]);
    expect(validateShopSettings({ alternatives: 'cheap' })).toEqual([
      { field: 'alternatives', message: 'must be { maxPriceIncreasePercent? }' },
    ]);
  });
});

describe('per-shop settings: discounts only where they pay (RFC 0017)', () => {
  it('defaults to the fixed ladder; a shop switches to learned with its margin, exploration and code-farming thresholds', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).incentives).toMatchObject({
      policy: 'fixed',
      marginPercent: 40,
    });
    const c = shopRecoveryConfig(defaultRecoveryConfig, {
      incentives: {
        policy: 'learned',
        marginPercent: 55,
        explorationPercent: 10,
        codeFarming: { minCodePurchases: 3 },
      },
    });
    expect(c.incentives).toEqual({
      policy: 'learned',
      marginPercent: 55,
      explorationPercent: 10,
      priorStrength: 10,
      codeFarming: { enabled: true, minCodePurchases: 3, windowDays: 180, minCodeOrderShare: 0.5 },
    });
    expect(validateShopSettings({ incentives: { policy: 'learned', marginPercent: 35 } })).toEqual([]);
  });

  it('names each bad field', () => {
    expect(
      validateShopSettings({
        incentives: {
          policy: 'smart',
          marginPercent: 0,
          explorationPercent: 120,
          bonus: 1,
          codeFarming: { minCodePurchases: 1.5, minCodeOrderShare: 2, enabled: 'yes' },
        },
      }),
    ).toEqual([
      { field: 'incentives.bonus', message: 'is not an incentives setting' },
      { field: 'incentives.policy', message: 'must be fixed or learned' },
      { field: 'incentives.marginPercent', message: 'must be a number above 0 and at most 100' },
      { field: 'incentives.explorationPercent', message: 'must be a number from 0 to 100' },
      { field: 'incentives.codeFarming.enabled', message: 'must be a boolean' },
      { field: 'incentives.codeFarming.minCodePurchases', message: 'must be an integer from 1 to 100' },
      { field: 'incentives.codeFarming.minCodeOrderShare', message: 'must be a number from 0 to 1' },
    ]);
    expect(validateShopSettings({ incentives: 'learned' })[0]).toMatchObject({ field: 'incentives' });
  });
});

describe('per-shop settings: the policy control arm (RFC 0021)', () => {
  it('defaults to the appliance share (off); a shop sets its own', () => {
    expect(shopRecoveryConfig(defaultRecoveryConfig, {}).policyControl).toEqual({ percent: 0 });
    const base = { ...defaultRecoveryConfig, policyControl: { percent: 10 } };
    expect(shopRecoveryConfig(base, {}).policyControl).toEqual({ percent: 10 });
    expect(shopRecoveryConfig(base, { policyControl: { percent: 25 } }).policyControl).toEqual({ percent: 25 });
    expect(shopRecoveryConfig(base, { policyControl: {} }).policyControl).toEqual({ percent: 10 });
    expect(validateShopSettings({ policyControl: { percent: 0 } })).toEqual([]);
    expect(validateShopSettings({ policyControl: { percent: 100 } })).toEqual([]);
  });

  it('names each bad field', () => {
    expect(validateShopSettings({ policyControl: { percent: 101 } })).toEqual([
      { field: 'policyControl.percent', message: 'must be a number from 0 to 100' },
    ]);
    expect(validateShopSettings({ policyControl: { percent: '20' } })).toEqual([
      { field: 'policyControl.percent', message: 'must be a number from 0 to 100' },
    ]);
    expect(validateShopSettings({ policyControl: { percent: -1, arm: 'fixed-rules' } })).toEqual([
      { field: 'policyControl.percent', message: 'must be a number from 0 to 100' },
      { field: 'policyControl.arm', message: 'is not a policyControl setting' },
    ]);
    expect(validateShopSettings({ policyControl: 20 })).toEqual([
      { field: 'policyControl', message: 'must be { percent? }' },
    ]);
  });
});
