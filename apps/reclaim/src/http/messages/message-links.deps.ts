import type { Provider } from '@nestjs/common';
import {
  InvalidTokenError,
  type EngagementRecorder,
  type MessageTokens,
  type ShopDomains,
  type UnsubscribeRecorder,
} from '@reclaim/application/messages';

/** Everything the message-link controllers need; the app builds it from the runtime. */
export interface MessageLinkDeps {
  readonly tokens: MessageTokens;
  readonly unsubscribes: UnsubscribeRecorder;
  readonly engagement: EngagementRecorder;
  readonly shopDomains: ShopDomains;
  readonly clock: () => Date;
}

/**
 * Tokens are longer than find-my-way's default `maxParamLength` (100, answered 414): the app's
 * FastifyAdapter must be created with at least this (the verifier's own upper bound).
 */
export const MESSAGE_LINK_MAX_PARAM_LENGTH = 8192;

/** Nest injection token of {@link MessageLinkDeps}. */
export const MESSAGE_LINK_DEPS = Symbol('MESSAGE_LINK_DEPS');

export function messageLinkProviders(deps: MessageLinkDeps): Provider[] {
  return [{ provide: MESSAGE_LINK_DEPS, useValue: deps }];
}

/** 410 for an expired link, 400 for anything else that does not verify. */
export function refusalStatus(err: InvalidTokenError): 400 | 410 {
  return err.reason === 'expired' ? 410 : 400;
}

export function refusalMessage(err: InvalidTokenError): string {
  return err.reason === 'expired'
    ? 'This link has expired.'
    : 'This link is not valid. It may have been altered or copied incompletely.';
}

/** Security headers for the small pages and answers these routes serve. */
export const LINK_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}
