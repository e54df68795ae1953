/**
 * The appliance's implementations of the message-link ports (libs/application/src/messages/ports):
 * unsubscribes become a consent change on the customer stream (the recovery feed then revokes the
 * channel on every running recovery of the customer, R25); opens and clicks are recorded on the
 * recovery stream (`recovery.message-opened` / `recovery.message-clicked`, first of each per step
 * and channel), projected onto `engine.sent_messages` — held until the send is recorded when they
 * arrive before it (`HeldEngagement`); template overrides and allowed hosts come
 * from Postgres and the shop registry.
 */
import type { Pool } from 'pg';
import {
  customerDecider,
  customerStream,
  type Channel,
  type ChangeMarketingConsentCommand,
  type DeliveryStatus,
} from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import {
  ShopGoneError,
  type EngagementRecorder,
  type EngagementSubject,
  type ShopDomains,
  type TemplateOverrides,
  type UnsubscribeRecorder,
  type UnsubscribeRequest,
} from '../../messages/ports';
import { validateTemplate, type TemplateSource } from '../../messages/template-engine';
import { runDecider } from '../../shared/run-decider';
import { readCustomer } from '../facts';
import type { ShopLookup } from '../ports';
import { parseRecoveryId } from '@reclaim/domain';
import type { EngagementRecordResult, HeldEngagement } from './held-engagement';

/** A token names a shop and a recovery: both must agree, or nothing is recorded. */
function checkSubject(shopId: string, recoveryId: string): void {
  if (parseRecoveryId(recoveryId)?.shopId !== shopId) throw new Error('the recovery does not belong to the shop');
}

export class ConsentUnsubscribeRecorder implements UnsubscribeRecorder {
  constructor(private readonly deps: { store: EventStore; shops: ShopLookup }) {}

  async recordUnsubscribe(request: UnsubscribeRequest): Promise<void> {
    checkSubject(request.shopId, request.recoveryId);
    const channel = request.channel;
    // Push carries no unsubscribe link: the customer turns notifications off on the device.
    if (channel === 'push') throw new Error('push messages carry no unsubscribe link');
    const shop = await this.deps.shops.get(request.shopId);
    if (!shop) throw new ShopGoneError(request.shopId);
    const customer = await readCustomer(this.deps.store, request.shopId, request.customerKey);
    // Idempotent: mailbox providers may POST the same link more than once.
    if (customer.consent[channel]?.state === 'unsubscribed') return;
    const at = request.at.toISOString();
    const command: ChangeMarketingConsentCommand = {
      type: 'ChangeMarketingConsent',
      shopId: request.shopId,
      customerKey: request.customerKey,
      causationId: `unsubscribe:${request.recoveryId}:${request.step}:${request.channel}:${at}`,
      receivedAt: at,
      platform: shop.platform as ChangeMarketingConsentCommand['platform'],
      platformUpdatedAt: at,
      customer: {},
      reach: { email: false, sms: false },
      channel,
      consent: {
        state: 'unsubscribed',
        updatedAt: at,
        source: request.source === 'one-click' ? 'reclaim:one-click-unsubscribe' : 'reclaim:unsubscribe-page',
      },
    };
    await runDecider(this.deps.store, customerStream(request.shopId, request.customerKey), customerDecider, command, {
      causationId: command.causationId,
      metadata: { shopId: request.shopId },
    });
  }
}

/**
 * Opens and clicks of the message links, and the providers' delivery statuses: recorded on the
 * recovery, or held until the message's send is recorded ({@link HeldEngagement}) — never dropped.
 */
export class RecoveryEngagementRecorder implements EngagementRecorder {
  constructor(private readonly deps: { held: HeldEngagement }) {}

  /**
   * A provider's final status of a message it accepted (Twilio status callback), by the message's
   * idempotency key (`<recoveryId>:step-<n>:<channel>`); `undefined` when the key is not one of ours.
   */
  async recordDeliveryStatus(report: {
    readonly idempotencyKey: string;
    readonly status: DeliveryStatus;
    readonly errorCode?: string;
    readonly at: Date;
  }): Promise<EngagementRecordResult | undefined> {
    const m = /^(.+):step-(\d{1,4}):(email|sms)$/.exec(report.idempotencyKey);
    const ids = m ? parseRecoveryId(m[1]) : undefined;
    if (!m || ids === undefined) return undefined;
    return this.deps.held.record(
      ids.shopId,
      m[1],
      {
        type: 'DeliveryReported',
        step: Number(m[2]),
        channel: m[3] as Channel,
        status: report.status,
        ...(report.errorCode ? { errorCode: report.errorCode } : {}),
        at: report.at.toISOString(),
      },
      `delivery:${report.idempotencyKey}:${report.status}`,
    );
  }

  recordOpened(s: EngagementSubject): Promise<void> {
    return this.record(s, 'opened');
  }

  recordClicked(s: EngagementSubject & { readonly target: string }): Promise<void> {
    let host: string | undefined;
    try {
      host = new URL(s.target).host;
    } catch {
      host = undefined;
    }
    return this.record(s, 'clicked', host);
  }

  /** "Notify me when it is back" for a line the message named as sold out: recorded on the recovery. */
  async recordBackInStockRequest(s: EngagementSubject & { readonly lineId: string }): Promise<void> {
    checkSubject(s.shopId, s.recoveryId);
    const at = s.at.toISOString();
    await this.deps.held.decideNow(
      s.shopId,
      s.recoveryId,
      { type: 'BackInStockRequested', at, step: s.step, lineId: s.lineId },
      `back-in-stock-request:${s.recoveryId}:${s.lineId}`,
    );
  }

  /** The shopper answered the message (an SMS reply that is not a keyword). */
  recordReplied(s: EngagementSubject): Promise<void> {
    return this.record(s, 'replied');
  }

  private async record(
    s: EngagementSubject,
    kind: 'opened' | 'clicked' | 'replied',
    targetHost?: string,
  ): Promise<void> {
    checkSubject(s.shopId, s.recoveryId);
    const at = s.at.toISOString();
    await this.deps.held.record(
      s.shopId,
      s.recoveryId,
      {
        type: 'MessageEngagement',
        kind,
        step: s.step,
        channel: s.channel,
        at,
        ...(targetHost !== undefined ? { targetHost } : {}),
      },
      `${kind}:${s.recoveryId}:${s.step}:${s.channel}:${at}`,
    );
  }
}

/** The shop's domain plus the aliases in its settings. */
export class RegistryShopDomains implements ShopDomains {
  constructor(
    private readonly shops: ShopLookup,
    private readonly aliases: (shopId: string) => Promise<readonly string[]>,
  ) {}

  async allowedHosts(shopId: string): Promise<readonly string[] | undefined> {
    const shop = await this.shops.get(shopId).catch(() => null);
    if (!shop) return undefined;
    return [shop.shopDomain, ...(await this.aliases(shopId))];
  }
}

export class InvalidTemplateError extends Error {
  constructor(readonly errors: readonly { field: string; message: string }[]) {
    super(`invalid template: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'InvalidTemplateError';
  }
}

/** `engine.templates`: per-shop overrides, validated with `validateTemplate` when saved. */
export class PostgresTemplateOverrides implements TemplateOverrides {
  constructor(private readonly pool: Pool) {}

  async findTemplate(shopId: string, templateId: string, channel: Channel): Promise<TemplateSource | undefined> {
    const { rows } = await this.pool.query<{ source: TemplateSource }>(
      'SELECT source FROM engine.templates WHERE shop_id = $1 AND template_id = $2 AND channel = $3',
      [shopId, templateId, channel],
    );
    return rows[0]?.source;
  }

  async list(shopId: string): Promise<{ templateId: string; channel: Channel; source: TemplateSource }[]> {
    const { rows } = await this.pool.query<{ template_id: string; channel: Channel; source: TemplateSource }>(
      'SELECT template_id, channel, source FROM engine.templates WHERE shop_id = $1 ORDER BY template_id, channel',
      [shopId],
    );
    return rows.map((r) => ({ templateId: r.template_id, channel: r.channel, source: r.source }));
  }

  /** Validates (compiles) the template and stores it; throws {@link InvalidTemplateError} naming the fields. */
  async save(shopId: string, templateId: string, source: TemplateSource): Promise<void> {
    const result = validateTemplate(source);
    if (!result.ok) throw new InvalidTemplateError([{ field: result.field, message: result.error }]);
    await this.pool.query(
      `INSERT INTO engine.templates (shop_id, template_id, channel, source, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (shop_id, template_id, channel) DO UPDATE SET source = EXCLUDED.source, updated_at = now()`,
      [shopId, templateId, source.channel, JSON.stringify(source)],
    );
  }
}
