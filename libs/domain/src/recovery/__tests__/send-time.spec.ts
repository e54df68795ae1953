import {
  chooseSendTime,
  controlArmChoice,
  customerDistribution,
  describeSendTime,
  emptyProfile,
  localSlot,
  profileFromCells,
  sendTimeArm,
  sendTimeWindow,
  shopDistribution,
  type EngagementProfile,
  type SendTimeInput,
  type SendTimeSettings,
} from '../send-time';
import { isInsideWindow } from '../quiet-hours';
import { HOUR, MINUTE, toIso, toMs } from '../time';

const SETTINGS: SendTimeSettings = {
  enabled: true,
  armPercent: 50,
  windowMs: 4 * HOUR,
  minDelayMs: HOUR,
  priorStrength: 8,
};
const BERLIN = 'Europe/Berlin';
/** Monday 2 March 2026, 17:00 in Berlin (UTC+1). */
const ABANDONED = '2026-03-02T16:00:00.000Z';

/** `n` events at each of the given local hours, spread over Monday–Friday. */
function atHours(hours: readonly number[], n: number): EngagementProfile {
  return profileFromCells(hours.flatMap((hour) => [0, 1, 2, 3, 4].map((weekday) => ({ weekday, hour, events: n }))));
}

const input = (overrides: Partial<SendTimeInput> = {}): SendTimeInput => ({
  abandonedAt: ABANDONED,
  delayMs: 6 * HOUR,
  now: toIso(toMs(ABANDONED) + 2 * HOUR),
  settings: SETTINGS,
  timeZone: BERLIN,
  timeZoneSource: 'address',
  sendWindow: null,
  customer: emptyProfile(),
  shop: emptyProfile(),
  ...overrides,
});

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('engagement profile: the customer shrunk towards the shop (Dirichlet posterior mean)', () => {
  it('a shop without data is flat; its distributions sum to 1', () => {
    const shop = shopDistribution(emptyProfile());
    expect(shop.hours.every((p) => Math.abs(p - 1 / 24) < 1e-12)).toBe(true);
    expect(shop.weekdays.every((p) => Math.abs(p - 1 / 7) < 1e-12)).toBe(true);
  });

  it('a customer without events has exactly the shop distribution', () => {
    const shop = shopDistribution(atHours([12], 10));
    expect(customerDistribution(emptyProfile(), shop, 8)).toEqual({ hours: shop.hours, weekdays: shop.weekdays });
  });

  it("the customer's own counts weigh n / (n + α): p_h = (n_h + α π_h) / (n + α)", () => {
    const shop = shopDistribution(emptyProfile());
    const customer = atHours([20], 1); // 5 events at 20:00
    const d = customerDistribution(customer, shop, 8);
    expect(d.hours[20]).toBeCloseTo((5 + 8 / 24) / 13, 12);
    expect(d.hours[3]).toBeCloseTo(8 / 24 / 13, 12);
    expect(sum(d.hours)).toBeCloseTo(1, 12);
    expect(sum(d.weekdays)).toBeCloseTo(1, 12);
    // More evidence, closer to their own profile; a stronger prior, closer to the shop's.
    expect(customerDistribution(atHours([20], 10), shop, 8).hours[20]).toBeGreaterThan(d.hours[20]);
    expect(customerDistribution(customer, shop, 80).hours[20]).toBeLessThan(d.hours[20]);
  });

  it("the shop's profile is the prior: a customer's unseen hours follow the shop's shape", () => {
    const shop = shopDistribution(atHours([9], 20));
    const d = customerDistribution(atHours([20], 1), shop, 8);
    expect(d.hours[9]).toBeGreaterThan(d.hours[10]);
  });

  it('cells outside the ranges or without events are ignored', () => {
    const p = profileFromCells([
      { weekday: 7, hour: 3, events: 2 },
      { weekday: 1, hour: 24, events: 2 },
      { weekday: 1, hour: 3, events: 0 },
      { weekday: 1, hour: 3, events: 2 },
    ]);
    expect(p.events).toBe(2);
    expect(p.hours[3]).toBe(2);
    expect(p.weekdays[1]).toBe(2);
  });

  it('local weekday and hour (Monday = 0), in the zone', () => {
    expect(localSlot(toMs(ABANDONED), BERLIN)).toEqual({ weekday: 0, hour: 17 });
    expect(localSlot(toMs('2026-03-08T23:30:00.000Z'), BERLIN)).toEqual({ weekday: 0, hour: 0 });
    expect(localSlot(toMs('2026-03-08T23:30:00.000Z'), 'UTC')).toEqual({ weekday: 6, hour: 23 });
  });
});

describe('chooseSendTime: the best allowed hour within the window around the nominal time', () => {
  it('an evening-engaged customer: the 23:00 follow-up moves to 20:00 local', () => {
    const choice = chooseSendTime(input({ customer: atHours([20], 2), shop: atHours([12], 10) }));
    expect(choice).toMatchObject({
      nominalAt: '2026-03-02T22:00:00.000Z',
      chosenAt: '2026-03-02T19:00:00.000Z',
      windowFrom: '2026-03-02T18:00:00.000Z',
      windowTo: '2026-03-03T02:00:00.000Z',
      reason: 'profile',
      timeZone: BERLIN,
      timeZoneSource: 'address',
      evidence: { customerEvents: 10, chosenHour: 20, nominalHour: 23, priorStrength: 8 },
    });
    expect(choice.evidence?.chosenHourShare).toBeGreaterThan(choice.evidence?.nominalHourShare ?? 1);
    expect(describeSendTime(choice)).toMatch(
      /^moved from Mon 23:00 to Mon 20:00 \(Europe\/Berlin, customer's address\): 10 engagement events/,
    );
  });

  it('no event of the customer: nominal, whatever the shop profile says', () => {
    const choice = chooseSendTime(input({ shop: atHours([19], 50) }));
    expect(choice).toMatchObject({ reason: 'no-evidence', chosenAt: '2026-03-02T22:00:00.000Z' });
    expect(choice.evidence).toBeUndefined();
    expect(describeSendTime(choice)).toBe("no evidence: nominal Mon 23:00 (Europe/Berlin, customer's address)");
  });

  it('an hour outside the window is never chosen, however strong', () => {
    // Peak at 08:00 local, 9 h before nominal: the window is 19:00–03:00.
    const choice = chooseSendTime(input({ customer: atHours([8], 20) }));
    const t = toMs(choice.chosenAt);
    expect(t).toBeGreaterThanOrEqual(toMs(choice.windowFrom));
    expect(t).toBeLessThanOrEqual(toMs(choice.windowTo));
  });

  it('never earlier than the nominal minimum after abandonment', () => {
    // Step 2 h after abandonment, ±4 h: the window would start before abandonment; it starts at 1 h.
    const choice = chooseSendTime(
      input({ delayMs: 2 * HOUR, now: ABANDONED, customer: atHours([17], 20) }), // 17:00 = the abandonment hour
    );
    expect(choice.windowFrom).toBe(toIso(toMs(ABANDONED) + HOUR));
    expect(toMs(choice.chosenAt)).toBeGreaterThanOrEqual(toMs(ABANDONED) + HOUR);
    // A step whose nominal delay is below the minimum is never moved earlier than nominal.
    const short = chooseSendTime(input({ delayMs: 30 * MINUTE, now: ABANDONED, customer: atHours([17], 20) }));
    expect(toMs(short.chosenAt)).toBeGreaterThanOrEqual(toMs(ABANDONED) + 30 * MINUTE);
  });

  it('never before now', () => {
    const now = '2026-03-02T21:10:00.000Z';
    const choice = chooseSendTime(input({ now, customer: atHours([19], 20) })); // 19:00 local = 18:00Z is past
    expect(toMs(choice.chosenAt)).toBeGreaterThanOrEqual(toMs(now));
    expect(sendTimeWindow(ABANDONED, 6 * HOUR, SETTINGS, now).from).toBe(toMs(now));
  });

  it('always outside quiet hours: a night owl on SMS (08:00–21:00) gets the best allowed hour', () => {
    const sms = { fromMinute: 8 * 60, toMinute: 21 * 60 };
    const choice = chooseSendTime(
      input({
        sendWindow: sms,
        customer: profileFromCells([
          { weekday: 0, hour: 23, events: 30 },
          { weekday: 0, hour: 20, events: 3 },
        ]),
      }),
    );
    expect(isInsideWindow(toMs(choice.chosenAt), BERLIN, sms)).toBe(true);
    expect(choice.chosenAt).toBe('2026-03-02T19:00:00.000Z');
  });

  it('no allowed hour in the window: nominal, said so (the pre-send check defers it)', () => {
    const choice = chooseSendTime(
      input({
        delayMs: 9 * HOUR, // nominal 02:00 local, window 22:00–06:00
        sendWindow: { fromMinute: 8 * 60, toMinute: 21 * 60 },
        customer: atHours([20], 3),
      }),
    );
    expect(choice).toMatchObject({ reason: 'no-allowed-hour', chosenAt: '2026-03-03T01:00:00.000Z' });
  });

  it('ties go to the candidate closest to nominal (a flat profile keeps nominal)', () => {
    const flat = profileFromCells(
      Array.from({ length: 24 }, (_, hour) =>
        Array.from({ length: 7 }, (_, weekday) => ({ weekday, hour, events: 1 })),
      ).flat(),
    );
    const choice = chooseSendTime(input({ customer: flat, shop: flat }));
    expect(choice.chosenAt).toBe(choice.nominalAt);
    expect(describeSendTime(choice)).toMatch(/^nominal Mon 23:00 is the best hour/);
  });

  it("reads the hours in the zone given (shop's zone when the customer's is unknown)", () => {
    const choice = chooseSendTime(
      input({ timeZone: 'America/New_York', timeZoneSource: 'shop-default', customer: atHours([15], 5) }),
    );
    // Nominal 22:00Z = 17:00 EST; 15:00 EST = 20:00Z.
    expect(choice).toMatchObject({ chosenAt: '2026-03-02T20:00:00.000Z', timeZoneSource: 'shop-default' });
    expect(describeSendTime(choice)).toContain("(America/New_York, shop's zone)");
  });

  it('the control arm keeps nominal and records what the profile would have chosen', () => {
    const choice = controlArmChoice(input({ customer: atHours([20], 2) }));
    expect(choice).toMatchObject({
      reason: 'control-arm',
      chosenAt: '2026-03-02T22:00:00.000Z',
      nominalAt: '2026-03-02T22:00:00.000Z',
      wouldChooseAt: '2026-03-02T19:00:00.000Z',
    });
    expect(describeSendTime(choice)).toBe(
      "control arm: nominal Mon 23:00 kept (Europe/Berlin, customer's address); the profile would have chosen Mon 20:00",
    );
  });
});

describe('sendTimeArm: the randomised on/off arm with its propensity', () => {
  it('on below the share, off at or above it; the propensity is the probability of the arm drawn', () => {
    expect(sendTimeArm(0.1, 50)).toEqual({ arm: 'on', propensity: 0.5 });
    expect(sendTimeArm(0.5, 50)).toEqual({ arm: 'off', propensity: 0.5 });
    expect(sendTimeArm(0.7, 80)).toEqual({ arm: 'on', propensity: 0.8 });
    expect(sendTimeArm(0.9, 80).propensity).toBeCloseTo(0.2, 12);
    expect(sendTimeArm(0, 0)).toEqual({ arm: 'off', propensity: 1 });
  });
});
