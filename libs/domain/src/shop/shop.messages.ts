/**
 * The shop stream's vocabulary (`shop-<shop>`): inbound command, domain command, event.
 */
import type { DomainCommandOf } from '../commands/command-context';
import type { Caused, DomainEvent } from '../events/envelope';
import type { InboundCommandBase, IsoTimestamp, Platform } from '../inbound/inbound-types';

// ---------------------------------------------------------------- inbound command (from a webhook)

/** GDPR/compliance: the shop uninstalled 48 h ago; purge its data (Shopify shop/redact). */
export interface RedactShop extends InboundCommandBase {
  readonly type: 'RedactShop';
}

// ---------------------------------------------------------------- domain command

export type RedactShopCommand = DomainCommandOf<RedactShop>;
export type ShopCommand = RedactShopCommand;

// ---------------------------------------------------------------- event

export interface ShopRedactedData extends Caused {
  readonly platform: Platform;
  readonly requestedAt: IsoTimestamp;
}
/** The shop uninstalled and asked for erasure (R29): all its keys are shredded and its data purged. */
export type ShopRedacted = DomainEvent<'shop.redacted', ShopRedactedData>;

export type ShopEvent = ShopRedacted;
