import { recoveryConfig } from '../config';
import {
  configForPolicyArm,
  drawPolicyArm,
  drawsPolicyArm,
  fixedRulesConfig,
  policyArmProbabilities,
  runsFixedRules,
} from '../policy-arm';
import type { StartContext } from '../recovery.messages';
import { RecoveryInputError } from '../time';
import { cart, Run, start, types } from './fixtures';

const LEARNING = {
  sendTime: { enabled: true, armPercent: 100 },
  incentives: { policy: 'learned' as const },
  experiments: { enabled: true },
  policyControl: { percent: 20 },
};
const draws = (random: number, policyRandom?: number): StartContext => ({
  ...start(random),
  sendTimeRandom: 0.3,
  ...(policyRandom !== undefined ? { policyRandom } : {}),
});

describe('the policy control arm (RFC 0021)', () => {
  it('draws the rules arm below the share and records it with its propensity', () => {
    expect(drawPolicyArm(20, 0.1)).toEqual({ arm: 'fixed-rules', propensity: 0.2, draw: 0.1, controlPercent: 20 });
    expect(drawPolicyArm(20, 0.2)).toEqual({ arm: 'shop-policy', propensity: 0.8, draw: 0.2, controlPercent: 20 });
    expect(policyArmProbabilities(150)).toEqual({ 'fixed-rules': 1, 'shop-policy': 0 });
  });

  it('the fixed rules switch every learning decision off and keep the checks', () => {
    const shop = recoveryConfig({ ...LEARNING, frequencyCapMs: 1234, channelChoice: { enabled: true } });
    const rules = fixedRulesConfig(shop);
    expect(runsFixedRules(shop)).toBe(false);
    expect(runsFixedRules(rules)).toBe(true);
    expect(rules.frequencyCapMs).toBe(1234);
    expect(rules.incentives.policy).toBe('fixed');
    expect(configForPolicyArm(shop, 'shop-policy')).toBe(shop);
    expect(configForPolicyArm(shop, undefined)).toBe(shop);
    expect(configForPolicyArm(shop, 'fixed-rules').sendTime.enabled).toBe(false);
  });

  it('a shop already on the fixed rules draws no arm (both arms would be one policy)', () => {
    const rules = fixedRulesConfig(recoveryConfig(LEARNING));
    expect(drawsPolicyArm({ ...rules, policyControl: { percent: 20 } })).toBe(false);
    const run = new Run({
      routing: { enabled: false },
      channelChoice: { enabled: false },
      engagementScore: { enabled: false },
      policyControl: { percent: 50 },
    }).startAbandoned(cart(), start(0.5));
    expect(types(run.events)).not.toContain('recovery.policy-arm-assigned');
  });

  it('a recovery on the rules arm runs the fixed rules: no send-time arm, no variant, and stays there', () => {
    const run = new Run(LEARNING).startAbandoned(cart(), draws(0.5, 0.1));
    const assigned = run.events.find((e) => e.type === 'recovery.policy-arm-assigned');
    expect(assigned).toMatchObject({ arm: 'fixed-rules', propensity: 0.2, draw: 0.1, controlPercent: 20 });
    expect(types(run.events)).not.toContain('recovery.send-time-assigned');
    expect(run.state.policyArm).toBe('fixed-rules');
    // Its follow-ups are due at their nominal delays (send-time off on this arm), not held for a choice.
    run.sendStep('msg-0');
    const due = run.fire().find((e) => e.type === 'recovery.step-due');
    expect(due).toMatchObject({ step: 1 });
  });

  it('a recovery on the shop-policy arm runs the shop settings', () => {
    const run = new Run(LEARNING).startAbandoned(cart(), draws(0.5, 0.9));
    expect(run.events.find((e) => e.type === 'recovery.policy-arm-assigned')).toMatchObject({
      arm: 'shop-policy',
      propensity: 0.8,
    });
    expect(types(run.events)).toContain('recovery.send-time-assigned');
  });

  it('the holdout draws no policy arm', () => {
    const run = new Run(LEARNING).startAbandoned(cart(), draws(0.01, 0.1));
    expect(types(run.events)).toContain('recovery.assigned-holdout');
    expect(types(run.events)).not.toContain('recovery.policy-arm-assigned');
  });

  it('refuses a start without the draw when the shop runs the arm, naming the field', () => {
    const run = new Run(LEARNING);
    expect(() => run.startAbandoned(cart(), draws(0.5))).toThrow(RecoveryInputError);
    expect(() => new Run(LEARNING).startAbandoned(cart(), draws(0.5))).toThrow(/policyRandom/);
  });
});
