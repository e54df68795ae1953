import { DeciderSpecification } from '@reclaim/testing';
import { betaCdf, logGamma } from '../beta-distribution';
import {
  channelProbabilities,
  chooseChannel,
  describeChannelChoice,
  RESPONSE_SEGMENT_ORDER,
  responseSegmentOf,
  type ChannelEvidence,
} from '../channel-choice';
import { SEGMENTS } from '../segments';
import { seededUniform } from '../thompson';
import { defaultRecoveryConfig, recoveryConfig } from '../config';
import {
  assessResponsiveness,
  betaPosterior,
  customerTally,
  describeResponsiveness,
  priorFromRate,
  skipsForLowResponsiveness,
  smoothedRate,
} from '../engagement-score';
import type { EngagementMessage } from '../fatigue';
import { outcomeFromCheck } from '../outcomes';
import { checkBeforeSend, type SendCheckContext } from '../pre-send';
import { createRecoveryDecider } from '../process-manager';
import type { SequenceStep } from '../sequences';
import { DAY, HOUR } from '../time';
import { at, RID, Run } from './fixtures';

const NOW = '2026-03-10T12:00:00.000Z';
const score = defaultRecoveryConfig.engagementScore;
const fatigue = defaultRecoveryConfig.fatigue;
const choice = defaultRecoveryConfig.channelChoice;

let n = 0;
const msg = (recoveryId: string, sentAgoMs: number, e: Partial<EngagementMessage> = {}): EngagementMessage => ({
  recoveryId,
  step: n++,
  channel: 'email',
  sentAt: at(NOW, -sentAgoMs),
  ...e,
});
const ignored = (count: number, recoveryId = 'r-other') =>
  Array.from({ length: count }, (_, i) => msg(recoveryId, (i + 1) * DAY));
const clicked = (count: number) =>
  Array.from({ length: count }, (_, i) => msg('r-other', (i + 1) * DAY, { clickedAt: at(NOW, -(i + 1) * DAY + HOUR) }));

describe('Beta posteriors (pure)', () => {
  it('the shop rate is smoothed with a uniform prior, never 0 or 1', () => {
    expect(smoothedRate({ engaged: 0, sent: 0 })).toBe(0.5);
    expect(smoothedRate({ engaged: 0, sent: 98 })).toBe(0.01);
    expect(smoothedRate({ engaged: 98, sent: 98 })).toBe(0.99);
    // Inconsistent tallies are clamped, not trusted.
    expect(smoothedRate({ engaged: 5, sent: 2 })).toBe(0.75);
  });

  it('a prior of strength k at rate p is Beta(kp, k(1-p)); the update adds successes and failures', () => {
    expect(priorFromRate(0.25, 4)).toEqual({ alpha: 1, beta: 3 });
    expect(betaPosterior({ alpha: 1, beta: 3 }, { engaged: 2, sent: 6 })).toEqual({ alpha: 3, beta: 7, mean: 0.3 });
    expect(() => priorFromRate(0, 4)).toThrow(RangeError);
    expect(() => priorFromRate(0.5, 0)).toThrow(RangeError);
  });
});

describe('responsiveness (pure)', () => {
  const shop = { engaged: 30, sent: 118 }; // smoothed 31/120 ≈ 0.258

  it("counts other recoveries' messages in the window; machine opens are not engagement, an order after a message is", () => {
    const messages = [
      msg('r-a', DAY, { openedAt: at(NOW, -DAY + 2_000) }), // machine open
      msg('r-a', 2 * DAY, { openedAt: at(NOW, -2 * DAY + HOUR) }), // human open
      msg('r-b', 3 * DAY),
      msg('r-b', 40 * DAY, { clickedAt: at(NOW, -40 * DAY + HOUR) }), // outside the 30-day window
      msg(RID, HOUR), // own step: not counted by default
    ];
    expect(customerTally({ messages }, RID, NOW, fatigue)).toEqual({ sent: 3, engaged: 1, machineOpens: 1 });
    const withOrder = customerTally({ messages, lastOrderAt: at(NOW, -2.5 * DAY) }, RID, NOW, fatigue);
    expect(withOrder).toMatchObject({ sent: 3, engaged: 2 });
    expect(customerTally({ messages }, RID, NOW, { ...fatigue, countOwnSteps: true })).toMatchObject({ sent: 4 });
  });

  it('too few messages: unknown (the fatigue counter decides); many ignored: unresponsive; many engaged: engaged', () => {
    const few = assessResponsiveness({ messages: ignored(3) }, RID, NOW, shop, score, fatigue);
    expect(few).toMatchObject({ level: 'unknown', sent: 3, engaged: 0 });
    // Prior Beta(1.03, 2.97) at the shop's 25.8%: 5 ignored messages bring the estimate to 11.5%.
    const cold = assessResponsiveness({ messages: ignored(5) }, RID, NOW, shop, score, fatigue);
    expect(cold).toMatchObject({ level: 'unresponsive', sent: 5, engaged: 0, shopRate: 0.2583, shopSent: 118 });
    expect(cold.estimate).toBeCloseTo(1.0333 / 9, 3);
    // The same 4 ignored messages are not enough where the shop's customers rarely engage anyway... the other way round:
    // where nearly everybody engages, 4 ignored messages already say a lot less than the prior.
    const neutral = assessResponsiveness({ messages: ignored(4) }, RID, NOW, shop, score, fatigue);
    expect(neutral.level).toBe('neutral');
    const warm = assessResponsiveness({ messages: clicked(4) }, RID, NOW, shop, score, fatigue);
    expect(warm).toMatchObject({ level: 'engaged', engaged: 4 });
    expect(warm.estimate).toBeCloseTo(5.0333 / 8, 3);
  });

  it('the thresholds are settings', () => {
    const strict = { ...score, unresponsiveBelow: 0.2 };
    expect(assessResponsiveness({ messages: ignored(4) }, RID, NOW, shop, strict, fatigue).level).toBe('unresponsive');
    const eager = { ...score, minMessages: 1 };
    expect(assessResponsiveness({ messages: clicked(1) }, RID, NOW, shop, eager, fatigue).level).toBe('neutral');
  });

  it('an unresponsive customer keeps the first and the last step, never the ones in between', () => {
    expect([0, 1, 2, 3].map((i) => skipsForLowResponsiveness(i, 3))).toEqual([false, true, true, false]);
    expect(skipsForLowResponsiveness(0, undefined)).toBe(false);
    expect(skipsForLowResponsiveness(5, undefined)).toBe(true);
  });

  it('describes itself in one line', () => {
    const cold = assessResponsiveness({ messages: ignored(5) }, RID, NOW, shop, score, fatigue);
    expect(describeResponsiveness(cold)).toBe(
      "unresponsive (estimate 11.5%; unresponsive below 12%, engaged from 50%); engaged after 0 of 5 messages in 30 days; prior: the shop's rate 25.8% over 118 messages, weight 4",
    );
  });
});

describe('channel choice (pure)', () => {
  const evidence = (sms: [number, number], email: [number, number]): ChannelEvidence => ({
    segment: 'mobile-checkout-friction',
    shop: { engaged: 99, sent: 498 },
    byChannel: { sms: { engaged: sms[0], sent: sms[1] }, email: { engaged: email[0], sent: email[1] } },
  });

  it('the response segment is the most specific one; every segment has a place in the order', () => {
    expect([...RESPONSE_SEGMENT_ORDER].sort()).toEqual([...SEGMENTS].sort());
    expect(responseSegmentOf(['returning', 'vip', 'high-value-cart'])).toBe('vip');
    expect(responseSegmentOf(['new', 'mobile-checkout-friction'])).toBe('mobile-checkout-friction');
    expect(responseSegmentOf(['new'])).toBe('new');
    expect(responseSegmentOf([])).toBe('unsegmented');
  });

  it('with no evidence the preference order decides (SMS, then e-mail), whatever the costs', () => {
    const c = chooseChannel(['email', 'sms'], evidence([0, 0], [0, 0]), '80', choice);
    expect(c).toMatchObject({ chosen: 'sms', basis: 'default-order', segment: 'mobile-checkout-friction' });
    expect(c.candidates.map((e) => e.channel)).toEqual(['sms', 'email']);
    expect(c.candidates[0].rate).toBe(0.2); // the shop's rate, (99+1)/(498+2)
  });

  it('learned: the highest rate × value − cost wins, shrunk to the shop rate', () => {
    const smsBetter = chooseChannel(['email', 'sms'], evidence([12, 30], [3, 30]), '80', choice);
    expect(smsBetter).toMatchObject({ chosen: 'sms', basis: 'learned' });
    const emailBetter = chooseChannel(['email', 'sms'], evidence([2, 30], [12, 30]), '80', choice);
    expect(emailBetter).toMatchObject({ chosen: 'email', basis: 'learned' });
    const e = emailBetter.candidates.find((x) => x.channel === 'email');
    expect(e).toMatchObject({ sent: 30, engaged: 12, cost: 0.001 });
    expect(e?.rate).toBeCloseTo((2 + 12) / 40, 4);
    expect(e?.expectedValue).toBeCloseTo(((2 + 12) / 40) * 80 - 0.001, 3);
  });

  it('costs count: an expensive channel must earn its cost', () => {
    const costly = { ...choice, costs: { ...choice.costs, sms: 10 } };
    // SMS responds a bit better, but not 10 units better on an 80 cart.
    expect(chooseChannel(['email', 'sms'], evidence([12, 30], [9, 30]), '80', costly).chosen).toBe('email');
    expect(chooseChannel(['email', 'sms'], evidence([12, 30], [9, 30]), '80', choice).chosen).toBe('sms');
  });

  it('only the permitted channels are candidates; choice off keeps the preference order', () => {
    expect(chooseChannel(['email'], evidence([12, 30], [3, 30]), '80', choice).chosen).toBe('email');
    const off = { ...choice, enabled: false };
    expect(chooseChannel(['email', 'sms'], evidence([2, 30], [12, 30]), '80', off)).toMatchObject({
      chosen: 'sms',
      basis: 'default-order',
    });
    expect(() => chooseChannel([], evidence([0, 0], [0, 0]), '80', choice)).toThrow(RangeError);
  });

  it('describes itself in one line', () => {
    const c = chooseChannel(['email', 'sms'], evidence([12, 30], [3, 30]), '80', choice);
    expect(describeChannelChoice(c)).toMatch(
      /^sms: highest expected value for segment mobile-checkout-friction at value 80; sms 35% \(12\/30\)/,
    );
  });
});

describe('channel choice explores: Thompson sampling with an exact propensity', () => {
  const evidence = (sms: [number, number], email: [number, number]): ChannelEvidence => ({
    segment: 'mobile-checkout-friction',
    shop: { engaged: 99, sent: 498 },
    byChannel: { sms: { engaged: sms[0], sent: sms[1] }, email: { engaged: email[0], sent: email[1] } },
  });
  const draws = (n: number) => Array.from({ length: n }, (_, i) => (i + 0.5) / n);

  it('the Beta CDF is right where it is known in closed form', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(betaCdf(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(betaCdf(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    expect(betaCdf(0.2, 2, 1)).toBeCloseTo(0.04, 12); // x²
    expect(betaCdf(0.2, 0.5, 0.5)).toBeCloseTo((2 / Math.PI) * Math.asin(Math.sqrt(0.2)), 12);
    expect(betaCdf(0.01, 3000, 7000) + (1 - betaCdf(0.6, 3000, 7000))).toBeLessThan(1e-12);
    expect(() => betaCdf(0.5, 0, 1)).toThrow(/positive/);
  });

  it('a channel that looks worse early is still tried, as often as it may be the best; the rest go to the leader', () => {
    // SMS 3 of 30, e-mail 12 of 30: e-mail leads, but SMS is not ruled out on 30 messages each.
    const ev = evidence([3, 30], [12, 30]);
    const choices = draws(2000).map((d) => chooseChannel(['email', 'sms'], ev, '80', choice, d));
    const smsShare = choices.filter((c) => c.chosen === 'sms').length / choices.length;
    const first = choices[0];
    expect(first.basis).toBe('sampled');
    const pSms = first.candidates.find((c) => c.channel === 'sms')!.probability!;
    const pEmail = first.candidates.find((c) => c.channel === 'email')!.probability!;
    expect(pSms + pEmail).toBeCloseTo(1, 6);
    expect(pSms).toBeGreaterThan(0.001);
    expect(pSms).toBeLessThan(0.1);
    // The recorded propensity is what the sampling actually does (2,000 draws: ±0.01, 5 sd).
    expect(Math.abs(smsShare - pSms)).toBeLessThan(0.01);
    for (const c of choices) expect(c.propensity).toBeCloseTo(c.chosen === 'sms' ? pSms : pEmail, 6);
    // Without a draw: the posterior means, e-mail every time (no exploration), propensity 1.
    expect(chooseChannel(['email', 'sms'], ev, '80', choice)).toMatchObject({
      chosen: 'email',
      basis: 'learned',
      propensity: 1,
    });
  });

  it('the propensity matches the sampling for three channels, an untried one and unequal costs', () => {
    const ev: ChannelEvidence = {
      segment: 'vip',
      shop: { engaged: 60, sent: 300 },
      byChannel: { sms: { engaged: 14, sent: 60 }, email: { engaged: 12, sent: 60 }, push: { engaged: 0, sent: 0 } },
    };
    const settings = { ...choice, costs: { email: 0.001, sms: 3, push: 0 } };
    const choices = draws(3000).map((d) => chooseChannel(['email', 'sms', 'push'], ev, '40', settings, d));
    const probabilities = new Map(choices[0].candidates.map((c) => [c.channel, c.probability!]));
    for (const channel of ['sms', 'email', 'push'] as const) {
      const share = choices.filter((c) => c.chosen === channel).length / choices.length;
      // 3,000 draws: one sd ≤ 0.009.
      expect(Math.abs(share - probabilities.get(channel)!)).toBeLessThan(0.03);
    }
    // Push has no message of its own yet: its rate is the shop's prior, wide, so it is explored.
    expect(probabilities.get('push')!).toBeGreaterThan(0.1);
  });

  it('is reproducible from the recorded draw, and refuses a draw outside [0, 1)', () => {
    const ev = evidence([9, 30], [12, 30]);
    const a = chooseChannel(['email', 'sms'], ev, '80', choice, 0.37);
    expect(chooseChannel(['sms', 'email'], ev, '80', choice, 0.37)).toEqual(a);
    expect(a.draw).toBe(0.37);
    expect(a.candidates.every((c) => c.sampledRate !== undefined && c.sampledRate > 0 && c.sampledRate < 1)).toBe(true);
    const chosen = a.candidates.find((c) => c.channel === a.chosen)!;
    for (const c of a.candidates) {
      expect(chosen.sampledRate! * 80 - chosen.cost).toBeGreaterThanOrEqual(c.sampledRate! * 80 - c.cost - 1e-3);
    }
    expect(() => chooseChannel(['email', 'sms'], ev, '80', choice, 1)).toThrow(/draw must be in \[0, 1\)/);
    expect(() => chooseChannel(['email', 'sms'], ev, '80', choice, Number.NaN)).toThrow(/draw/);
  });

  it('consent first: one permitted channel is certain; too little evidence keeps the preference order', () => {
    expect(chooseChannel(['email'], evidence([30, 30], [0, 30]), '80', choice, 0.9)).toMatchObject({
      chosen: 'email',
      basis: 'sampled',
      propensity: 1,
    });
    expect(chooseChannel(['email', 'sms'], evidence([0, 0], [1, 1]), '80', choice, 0.9)).toMatchObject({
      chosen: 'sms',
      basis: 'default-order',
      propensity: 1,
    });
    // Nothing to win: the cheaper channel, certainly.
    expect(
      channelProbabilities(
        [
          { alpha: 2, beta: 2, cost: 0.05 },
          { alpha: 1, beta: 9, cost: 0.001 },
        ],
        0,
      ),
    ).toEqual([0, 1]);
    // Two identical posteriors at equal cost: a coin toss.
    const [p, q] = channelProbabilities(
      [
        { alpha: 4, beta: 7, cost: 0 },
        { alpha: 4, beta: 7, cost: 0 },
      ],
      50,
    );
    expect(p).toBeCloseTo(0.5, 4);
    expect(q).toBeCloseTo(0.5, 4);
  });

  it('learns a channel that looked worse early, where the highest expected value never tries it again', () => {
    // Truth: SMS answers 30 %, e-mail 20 % (SMS is worth its cost on an 80 cart). The first 20
    // messages each were unlucky for SMS (1 of 20) and lucky for e-mail (6 of 20).
    const truth = { sms: 0.3, email: 0.2 } as const;
    const run = (explore: boolean) => {
      const tally = { sms: { engaged: 1, sent: 20 }, email: { engaged: 6, sent: 20 } };
      const draw = seededUniform(7);
      const outcome = seededUniform(8);
      let smsLate = 0;
      let engaged = 0;
      for (let i = 0; i < 500; i++) {
        const ev: ChannelEvidence = {
          segment: 'new',
          shop: { engaged: tally.sms.engaged + tally.email.engaged, sent: tally.sms.sent + tally.email.sent },
          byChannel: { sms: { ...tally.sms }, email: { ...tally.email } },
        };
        const c = chooseChannel(['email', 'sms'], ev, '80', choice, explore ? draw() : undefined);
        const channel = c.chosen as 'sms' | 'email';
        const hit = outcome() < truth[channel] ? 1 : 0;
        tally[channel] = { engaged: tally[channel].engaged + hit, sent: tally[channel].sent + 1 };
        engaged += hit;
        if (i >= 250 && channel === 'sms') smsLate++;
      }
      return { smsLate: smsLate / 250, engaged, tally };
    };
    const greedy = run(false);
    const thompson = run(true);
    expect(greedy.tally.sms.sent).toBe(20); // never tried again: its 5 % estimate is never corrected
    expect(thompson.tally.sms.sent).toBeGreaterThan(200);
    expect(thompson.smsLate).toBeGreaterThan(0.85); // it found the better channel and uses it
    expect(thompson.engaged).toBeGreaterThan(greedy.engaged);
    console.log(
      `500 sends, SMS 30 % vs e-mail 20 % after a misleading start: highest expected value — SMS ${greedy.tally.sms.sent - 20} times, ` +
        `${greedy.engaged} engaged; Thompson — SMS ${thompson.tally.sms.sent - 20} times (${Math.round(thompson.smsLate * 100)} % of the last 250), ${thompson.engaged} engaged`,
    );
  });

  it('describes the sampling, its probability and the draw in one line', () => {
    const c = chooseChannel(['email', 'sms'], evidence([3, 30], [12, 30]), '80', choice, 0.25);
    expect(describeChannelChoice(c)).toMatch(
      /^email: Thompson sampling for segment mobile-checkout-friction at value 80 \(largest sampled rate × value − cost; probability 9\d\.\d%, draw 0\.25\); sms 12\.5% \(3\/30\) sampled \d+\.\d% − cost 0\.05 → [\d.]+, chosen \d\.\d% of the time/,
    );
  });
});

const step = (index: number, channels: SequenceStep['channels'] = ['email', 'sms']): SequenceStep => ({
  index,
  delayMs: index * HOUR,
  channels,
  discountPercent: 0,
  template: `welcome-${index}`,
  helpTemplate: `help-${index}`,
});
const consent = { status: 'subscribed' as const, source: 'shopify:checkout', at: '2026-01-01T00:00:00.000Z' };
const learned = (sms: [number, number], email: [number, number]): ChannelEvidence => ({
  segment: 'new',
  shop: { engaged: 30, sent: 118 },
  byChannel: { sms: { engaged: sms[0], sent: sms[1] }, email: { engaged: email[0], sent: email[1] } },
});
const ctx = (overrides: Partial<SendCheckContext> = {}): SendCheckContext => ({
  recoveryId: RID,
  step: step(1),
  mode: { kind: 'live' },
  now: NOW,
  dueAt: NOW,
  abandonedAt: at(NOW, -DAY),
  startedAt: at(NOW, -DAY),
  purchased: false,
  reach: { email: true, sms: true },
  revokedChannels: [],
  consent: { email: consent, sms: consent },
  ignoredRecoveryMessages: 0,
  engagement: { messages: [] },
  ticketOpen: false,
  shopTimeZone: 'UTC',
  currency: 'USD',
  items: [{ lineId: 'l1', productId: 'p1', quantity: 2, unitPrice: '40.00' }],
  stock: [],
  lastStepIndex: 3,
  learned: learned([0, 0], [0, 0]),
  ...overrides,
});

describe('checkBeforeSend with what the engine learned', () => {
  it('an unresponsive customer: intermediate steps skipped with the estimate; first and last sent', () => {
    const cold = ctx({ engagement: { messages: ignored(5) } });
    const skipped = checkBeforeSend(cold);
    expect(skipped).toMatchObject({
      decision: 'skip',
      reason: 'low-responsiveness',
      responsiveness: { level: 'unresponsive', sent: 5, engaged: 0 },
      channelChoice: { chosen: 'sms', basis: 'default-order' },
    });
    expect(outcomeFromCheck(skipped)).toMatchObject({
      kind: 'skipped',
      reason: 'low-responsiveness',
      responsiveness: { level: 'unresponsive' },
    });
    expect(checkBeforeSend({ ...cold, step: step(0) })).toMatchObject({ decision: 'send' });
    expect(checkBeforeSend({ ...cold, step: step(3) })).toMatchObject({
      decision: 'send',
      responsiveness: { level: 'unresponsive' },
    });
  });

  it('the score replaces the fatigue counter once it has evidence; below that the counter decides', () => {
    // 5 messages, 3 ignored since the last click: fatigued by the counter, but the score sees 2 of 5 engaged.
    const mixed = [
      ...clicked(2).map((m) => ({ ...m, sentAt: at(m.sentAt, -10 * DAY), clickedAt: at(m.sentAt, -10 * DAY + HOUR) })),
      ...ignored(3),
    ];
    const c = ctx({ engagement: { messages: mixed }, step: step(2) });
    expect(checkBeforeSend(c)).toMatchObject({ decision: 'send', responsiveness: { level: 'neutral' } });
    expect(checkBeforeSend({ ...c, learned: undefined })).toMatchObject({ reason: 'engagement-fatigue' });
    // 3 ignored messages only: too little evidence for the score, the counter skips step 2.
    expect(checkBeforeSend(ctx({ engagement: { messages: ignored(3) }, step: step(2) }))).toMatchObject({
      decision: 'skip',
      reason: 'engagement-fatigue',
      fatigue: { fatigued: true, ignored: 3 },
      responsiveness: { level: 'unknown', sent: 3 },
    });
    // Score off: the counter decides as before.
    const off = recoveryConfig({ engagementScore: { enabled: false } });
    expect(checkBeforeSend(ctx({ engagement: { messages: ignored(5) } }), off)).toMatchObject({ decision: 'send' });
  });

  it('an engaged customer gets the rich variant of the sales copy', () => {
    const warm = checkBeforeSend(ctx({ engagement: { messages: clicked(4) } }));
    expect(warm).toMatchObject({
      decision: 'send',
      template: { kind: 'sales', id: 'welcome-1', variant: 'rich' },
      responsiveness: { level: 'engaged' },
    });
    const neutral = checkBeforeSend(ctx());
    expect(neutral).toMatchObject({ decision: 'send', template: { kind: 'sales', id: 'welcome-1' } });
    expect(neutral.decision === 'send' && neutral.template.variant).toBeUndefined();
  });

  it('learned rates choose the channel among those consent permits, with the reason on the decision', () => {
    const emailWins = checkBeforeSend(ctx({ learned: learned([2, 30], [12, 30]) }));
    expect(emailWins).toMatchObject({
      decision: 'send',
      channel: 'email',
      idempotencyKey: `${RID}:step-1:email`,
      channelChoice: { chosen: 'email', basis: 'learned', value: '80' },
      consentUsed: { channel: 'email', basis: 'subscribed' },
    });
    // SMS would win, but there is no SMS consent: e-mail, and the SMS refusal is listed.
    const noSms = checkBeforeSend(
      ctx({ learned: learned([12, 30], [3, 30]), consent: { email: consent, sms: { status: 'not-subscribed' } } }),
    );
    expect(noSms).toMatchObject({
      decision: 'send',
      channel: 'email',
      channelsSkipped: [{ channel: 'sms', reason: 'no-consent' }],
      channelChoice: { candidates: [expect.objectContaining({ channel: 'email' })] },
    });
    expect(checkBeforeSend(ctx({ learned: learned([12, 30], [3, 30]) }))).toMatchObject({ channel: 'sms' });
  });

  it('push is a channel a step may list: without a registered device or a provider it is skipped with the reason', () => {
    const push = step(1, ['push', 'email']);
    expect(checkBeforeSend(ctx({ step: push }))).toMatchObject({
      channel: 'email',
      channelsSkipped: [{ channel: 'push', reason: 'no-push-token' }],
    });
    const registered = ctx({
      step: push,
      reach: { email: true, sms: true, push: true },
      unavailableChannels: ['push'],
    });
    expect(checkBeforeSend(registered)).toMatchObject({
      channel: 'email',
      channelsSkipped: [{ channel: 'push', reason: 'channel-unavailable' }],
    });
    const allowed = ctx({
      step: push,
      reach: { email: true, sms: true, push: true },
      consent: { email: consent, push: consent },
    });
    expect(checkBeforeSend(allowed)).toMatchObject({ decision: 'send', channel: 'email' });
    // Free and as responsive as e-mail: push wins on cost once there is evidence.
    const evidence = {
      ...learned([0, 0], [6, 30]),
      byChannel: { email: { engaged: 6, sent: 30 }, push: { engaged: 6, sent: 30 } },
    };
    expect(checkBeforeSend({ ...allowed, learned: evidence })).toMatchObject({ decision: 'send', channel: 'push' });
  });

  it('with a draw the check samples among the consented channels and records the draw and propensity', () => {
    const sampled = checkBeforeSend(ctx({ learned: learned([2, 30], [12, 30]), channelDraw: 0.5 }));
    expect(sampled).toMatchObject({ decision: 'send', channelChoice: { basis: 'sampled', draw: 0.5 } });
    if (sampled.decision !== 'send') throw new Error('expected a send');
    expect(sampled.channel).toBe(sampled.channelChoice?.chosen);
    expect(sampled.channelChoice?.propensity).toBeGreaterThan(0);
    // Whatever the draw, a channel without consent is never sampled.
    for (const d of [0, 0.2, 0.4, 0.6, 0.8, 0.99]) {
      const noSms = checkBeforeSend(
        ctx({
          learned: learned([30, 30], [0, 30]),
          consent: { email: consent, sms: { status: 'not-subscribed' } },
          channelDraw: d,
        }),
      );
      expect(noSms).toMatchObject({ channel: 'email', channelChoice: { chosen: 'email', propensity: 1 } });
    }
  });
});

describe('the decider records the score and the choice (given/when/then)', () => {
  const spec = DeciderSpecification.for(createRecoveryDecider());

  it('a low-responsiveness skip and a chosen channel are on the step events', () => {
    const run = new Run().startAbandoned().sendStep('m-0');
    const due = run.fire().find((e) => e.type === 'recovery.step-due');
    if (due === undefined) throw new Error('step 1 did not become due');
    // Step 1 of an unresponsive customer, decided by the pure checks.
    const outcome = outcomeFromCheck(checkBeforeSend(ctx({ engagement: { messages: ignored(5) } })));
    if (outcome === undefined) throw new Error('expected a skip');
    spec
      .given(run.log)
      .when({ type: 'StepOutcome', step: 1, at: due.at, outcome })
      .thenMatches([
        {
          type: 'recovery.step-skipped',
          data: {
            step: 1,
            reason: 'low-responsiveness',
            responsiveness: expect.objectContaining({ level: 'unresponsive', sent: 5, engaged: 0, shopSent: 118 }),
            channelChoice: expect.objectContaining({ chosen: 'sms', basis: 'default-order', segment: 'new' }),
          },
        },
        { type: 'recovery.timer-scheduled', data: { purpose: 'step', step: 2 } },
      ]);
  });
});
