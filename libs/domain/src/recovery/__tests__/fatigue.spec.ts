import { defaultRecoveryConfig, recoveryConfig } from '../config';
import {
  assessFatigue,
  ignoredOtherRecoveryMessages,
  isHumanOpen,
  type EngagementMessage,
  type FatigueSettings,
} from '../fatigue';
import { DAY, HOUR, MINUTE } from '../time';
import { at } from './fixtures';

const NOW = '2026-03-10T12:00:00.000Z';
const CURRENT = 'recovery-current';
const settings: FatigueSettings = defaultRecoveryConfig.fatigue;

let n = 0;
const msg = (recoveryId: string, sentAgoMs: number, e: Partial<EngagementMessage> = {}): EngagementMessage => ({
  recoveryId,
  step: n++,
  channel: 'email',
  sentAt: at(NOW, -sentAgoMs),
  ...e,
});
const ago = (ms: number) => at(NOW, -ms);

describe('engagement fatigue (pure)', () => {
  it('defaults: threshold 3 in 30 days, the first 2 steps always, own steps not counted, 60 s machine opens', () => {
    expect(settings).toEqual({
      enabled: true,
      threshold: 3,
      windowMs: 30 * DAY,
      maxSteps: 2,
      countOwnSteps: false,
      machineOpenWithinMs: 60_000,
    });
  });

  it('counts the ignored messages of other recoveries and skips late steps from the threshold on', () => {
    const messages = [msg('r-a', 5 * DAY), msg('r-a', 4 * DAY), msg('r-b', 2 * DAY)];
    const a = assessFatigue({ messages }, CURRENT, 2, NOW, settings);
    expect(a).toEqual({
      fatigued: true,
      ignored: 3,
      threshold: 3,
      windowDays: 30,
      maxSteps: 2,
      countOwnSteps: false,
      ownIgnored: 0,
      machineOpens: 0,
    });
    expect(assessFatigue({ messages }, CURRENT, 1, NOW, settings).fatigued).toBe(false);
    expect(assessFatigue({ messages: messages.slice(1) }, CURRENT, 2, NOW, settings).fatigued).toBe(false);
  });

  it("never counts the current recovery's own unopened steps by default (the last step is not dropped)", () => {
    const own = [msg(CURRENT, 3 * DAY), msg(CURRENT, 2 * DAY), msg(CURRENT, DAY)];
    const byDefault = assessFatigue({ messages: own }, CURRENT, 3, NOW, settings);
    expect(byDefault).toMatchObject({ fatigued: false, ignored: 0, ownIgnored: 3 });
    const counting = assessFatigue({ messages: own }, CURRENT, 3, NOW, { ...settings, countOwnSteps: true });
    expect(counting).toMatchObject({ fatigued: true, ignored: 3, ownIgnored: 3, countOwnSteps: true });
  });

  it('an open within the machine-open time of the send is not engagement; a later one is', () => {
    const sentAt = ago(DAY);
    expect(isHumanOpen({ sentAt, openedAt: at(sentAt, 59_000) }, 60_000)).toBe(false);
    expect(isHumanOpen({ sentAt, openedAt: at(sentAt, 60_000) }, 60_000)).toBe(false);
    expect(isHumanOpen({ sentAt, openedAt: at(sentAt, 61_000) }, 60_000)).toBe(true);
    expect(isHumanOpen({ sentAt }, 60_000)).toBe(false);

    const proxied = [
      msg('r-a', 3 * DAY, { openedAt: at(ago(3 * DAY), 2_000) }),
      msg('r-a', 2 * DAY, { openedAt: at(ago(2 * DAY), 30_000) }),
      msg('r-b', DAY),
    ];
    expect(assessFatigue({ messages: proxied }, CURRENT, 2, NOW, settings)).toMatchObject({
      fatigued: true,
      ignored: 3,
      machineOpens: 2,
    });
    const human = [...proxied.slice(0, 2), msg('r-b', DAY, { openedAt: at(ago(DAY), 2 * HOUR) })];
    expect(assessFatigue({ messages: human }, CURRENT, 2, NOW, settings)).toMatchObject({
      fatigued: false,
      ignored: 0,
      lastEngagement: { kind: 'human-open', at: at(ago(DAY), 2 * HOUR) },
    });
  });

  it.each([
    ['click', { clickedAt: ago(2 * DAY - HOUR) }],
    ['reply', { repliedAt: ago(2 * DAY - 5 * MINUTE) }],
  ] as const)('a %s resets the count: only later messages are ignored', (kind, engagement) => {
    const messages = [msg('r-a', 4 * DAY), msg('r-a', 2 * DAY, engagement), msg('r-b', DAY)];
    const a = assessFatigue({ messages }, CURRENT, 2, NOW, settings);
    expect(a).toMatchObject({ fatigued: false, ignored: 1, lastEngagement: { kind } });
  });

  it('an order placed after the messages resets the count', () => {
    const messages = [msg('r-a', 5 * DAY), msg('r-a', 4 * DAY), msg('r-b', 3 * DAY)];
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, settings).fatigued).toBe(true);
    const ordered = assessFatigue({ messages, lastOrderAt: ago(2 * DAY) }, CURRENT, 2, NOW, settings);
    expect(ordered).toMatchObject({ fatigued: false, ignored: 0, lastEngagement: { kind: 'order', at: ago(2 * DAY) } });
  });

  it('only messages within the window count; the per-shop threshold, window and switch apply', () => {
    const messages = [msg('r-a', 40 * DAY), msg('r-a', 35 * DAY), msg('r-b', 3 * DAY)];
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, settings)).toMatchObject({ fatigued: false, ignored: 1 });
    const wide = recoveryConfig({ fatigue: { windowMs: 60 * DAY } }).fatigue;
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, wide)).toMatchObject({ fatigued: true, windowDays: 60 });
    const strict = { ...settings, threshold: 1 };
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, strict).fatigued).toBe(true);
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, { ...strict, enabled: false })).toMatchObject({
      fatigued: false,
      ignored: 1,
    });
  });

  it('messages and engagement after now (clock skew) are ignored', () => {
    const messages = [msg('r-a', 3 * DAY), msg('r-a', 2 * DAY), msg('r-b', DAY, { clickedAt: at(NOW, HOUR) })];
    expect(assessFatigue({ messages }, CURRENT, 2, NOW, settings)).toMatchObject({ fatigued: true, ignored: 3 });
    expect(assessFatigue({ messages: [msg('r-a', -HOUR)] }, CURRENT, 2, NOW, settings).ignored).toBe(0);
  });

  it('the segmentation count covers the whole history of the other recoveries', () => {
    const messages = [msg('r-a', 90 * DAY), msg('r-a', 80 * DAY), msg(CURRENT, DAY)];
    expect(ignoredOtherRecoveryMessages({ messages }, CURRENT, 60_000)).toBe(2);
    expect(ignoredOtherRecoveryMessages({ messages, lastOrderAt: ago(70 * DAY) }, CURRENT, 60_000)).toBe(0);
    expect(ignoredOtherRecoveryMessages({ messages: [] }, CURRENT, 60_000)).toBe(0);
  });
});
