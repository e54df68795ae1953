import type { SendSummary, StepOutcomeResult } from './recovery.messages';
import type { CheckResult, SendDecision } from './pre-send';

export function summarizeDecision(decision: SendDecision): SendSummary {
  return {
    channel: decision.channel,
    template: decision.template,
    cartValue: decision.cartValue,
    currency: decision.currency,
    itemCount: decision.items.reduce((n, i) => n + i.quantity, 0),
    leftOut: decision.leftOut,
    ...(decision.items.some((i) => i.replacesLineId !== undefined)
      ? {
          replaced: decision.items.flatMap((i) =>
            i.replacesLineId !== undefined
              ? [
                  {
                    lineId: i.replacesLineId,
                    productId: i.productId,
                    ...(i.variantId !== undefined ? { variantId: i.variantId } : {}),
                  },
                ]
              : [],
          ),
        }
      : {}),
    priceChanged: decision.items.some((i) => i.priceChanged),
    ...(decision.discount !== undefined
      ? { discount: { percent: decision.discount.percent, expiresAt: decision.discount.expiresAt } }
      : {}),
    ...(decision.discountWithheld !== undefined ? { discountWithheld: decision.discountWithheld } : {}),
    ...(decision.discountWithheldDetail !== undefined
      ? { discountWithheldDetail: decision.discountWithheldDetail }
      : {}),
    consentUsed: decision.consentUsed,
    ...(decision.channelChoice !== undefined ? { channelChoice: decision.channelChoice } : {}),
    ...(decision.responsiveness !== undefined ? { responsiveness: decision.responsiveness } : {}),
  };
}

/**
 * The outcome to feed back for a pre-send result that sends nothing (skip, defer, stop);
 * `undefined` for a send decision: call the provider, then report sent / failed / unknown.
 */
export function outcomeFromCheck(result: CheckResult): StepOutcomeResult | undefined {
  switch (result.decision) {
    case 'send':
      return undefined;
    case 'skip':
      return {
        kind: 'skipped',
        reason: result.reason,
        ...(result.channelsSkipped !== undefined && result.channelsSkipped.length > 0
          ? { channelsSkipped: result.channelsSkipped }
          : {}),
        ...(result.wouldSend !== undefined ? { wouldSend: summarizeDecision(result.wouldSend) } : {}),
        ...(result.fatigue !== undefined ? { fatigue: result.fatigue } : {}),
        ...(result.responsiveness !== undefined ? { responsiveness: result.responsiveness } : {}),
        ...(result.channelChoice !== undefined ? { channelChoice: result.channelChoice } : {}),
      };
    case 'defer':
      return {
        kind: 'deferred',
        until: result.until,
        reason: result.reason,
        ...(result.timeZone !== undefined ? { timeZone: result.timeZone } : {}),
        ...(result.timeZoneSource !== undefined ? { timeZoneSource: result.timeZoneSource } : {}),
      };
    case 'stop':
      return { kind: 'stopped', reason: result.reason };
  }
}

/** The `sent` outcome for a send decision the provider accepted. */
export function sentOutcome(decision: SendDecision, messageId: string, discountCode?: string): StepOutcomeResult {
  return {
    kind: 'sent',
    messageId,
    ...(discountCode !== undefined ? { discountCode } : {}),
    sent: summarizeDecision(decision),
    ...(decision.channelsSkipped.length > 0 ? { channelsSkipped: decision.channelsSkipped } : {}),
  };
}
