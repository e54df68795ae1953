import { shopDecider, shopStream, type Platform } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { PersonalDataVault } from '@reclaim/privacy';
import { runDecider } from '../shared/run-decider';

/**
 * The shop/redact path (R29), whoever asks — Shopify's `shop/redact` delivery or the merchant
 * deleting the shop: `shop.redacted` on the shop's stream (read models purge its rows on it),
 * then every customer key of the shop is crypto-shredded.
 */
export async function redactShop(
  deps: { readonly store: EventStore; readonly vault: Pick<PersonalDataVault, 'shredShop'> },
  request: {
    readonly shopId: string;
    readonly platform: Platform;
    readonly causationId: string;
    readonly receivedAt: string;
    readonly platformUpdatedAt: string;
    readonly metadata?: Readonly<Record<string, unknown>>;
  },
): Promise<void> {
  const { shopId, platform, causationId, receivedAt, platformUpdatedAt } = request;
  await runDecider(
    deps.store,
    shopStream(shopId),
    shopDecider,
    { type: 'RedactShop', platform, platformUpdatedAt, shopId, causationId, receivedAt },
    { causationId, metadata: { shopId, ...(request.metadata ?? {}) } },
  );
  await deps.vault.shredShop(shopId);
}
