import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Channel } from '@reclaim/domain';

/**
 * Signed, self-contained tokens for the links in recovery messages (R24): unsubscribe, open pixel
 * and click tracking. `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`, with one key per
 * purpose derived from the master key with HKDF, so a token made for one purpose never verifies
 * for another. The claims hold ids only — shop, recovery, step, channel and the opaque customer
 * key — never an email address or any other personal data.
 */
export type TokenPurpose = 'unsubscribe' | 'open' | 'click' | 'notify';

export const TOKEN_PURPOSES: readonly TokenPurpose[] = ['unsubscribe', 'open', 'click', 'notify'];

const DAY_MS = 24 * 60 * 60 * 1000;

/** Unsubscribe links must keep working for at least 60 days after the message (R25). */
export const DEFAULT_TOKEN_LIFETIMES_MS: Readonly<Record<TokenPurpose, number>> = {
  unsubscribe: 60 * DAY_MS,
  open: 90 * DAY_MS,
  click: 90 * DAY_MS,
  notify: 90 * DAY_MS,
};

/** What a message link is about. */
export interface MessageLinkSubject {
  readonly shopId: string;
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: Channel;
  /** `e-…`, `t-…` or `p-…` from the vault; never an email address. */
  readonly customerKey: string;
}

export interface TokenClaims extends MessageLinkSubject {
  readonly purpose: TokenPurpose;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Click tokens only: where the click goes. */
  readonly target?: string;
  /** Notify tokens only: the cart line the shopper wants to hear about. */
  readonly lineId?: string;
}

export type TokenRefusal = 'malformed' | 'bad-signature' | 'expired';

/** A token that must be refused; `reason` decides the HTTP answer (expired → 410, else 400). */
export class InvalidTokenError extends Error {
  constructor(
    readonly reason: TokenRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

/** Thrown when asked to sign claims that must never be in a token. */
export class TokenClaimsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenClaimsError';
  }
}

export interface MessageTokensOptions {
  readonly clock?: () => Date;
  readonly lifetimesMs?: Partial<Record<TokenPurpose, number>>;
}

const VERSION = 'v1';
const CUSTOMER_KEY = /^[etp]-[^\s@]{1,200}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
const MAX_TOKEN_LENGTH = 8192;
const MAX_TARGET_LENGTH = 4096;

interface WireClaims {
  p: TokenPurpose;
  s: string;
  r: string;
  n: number;
  c: Channel;
  k: string;
  iat: number;
  exp: number;
  u?: string;
  l?: string;
}

export class MessageTokens {
  private readonly keys: ReadonlyMap<TokenPurpose, Buffer>;
  private readonly clock: () => Date;
  private readonly lifetimes: Readonly<Record<TokenPurpose, number>>;

  constructor(masterKey: Buffer, options: MessageTokensOptions = {}) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.keys = new Map(
      TOKEN_PURPOSES.map((purpose) => [
        purpose,
        Buffer.from(hkdfSync('sha256', masterKey, 'reclaim/message-links', `reclaim/message-token/v1/${purpose}`, 32)),
      ]),
    );
    this.clock = options.clock ?? (() => new Date());
    this.lifetimes = { ...DEFAULT_TOKEN_LIFETIMES_MS, ...options.lifetimesMs };
  }

  unsubscribe(subject: MessageLinkSubject): string {
    return this.sign('unsubscribe', subject);
  }

  open(subject: MessageLinkSubject): string {
    return this.sign('open', subject);
  }

  /** "Notify me when it is back" for one sold-out line of the message. */
  notify(subject: MessageLinkSubject, lineId: string): string {
    return this.sign('notify', subject, undefined, lineId);
  }

  /** `target` must be an absolute http(s) URL; the click endpoint checks its host again. */
  click(subject: MessageLinkSubject, target: string): string {
    return this.sign('click', subject, target);
  }

  sign(purpose: TokenPurpose, subject: MessageLinkSubject, target?: string, lineId?: string): string {
    assertSubject(subject);
    if (purpose === 'notify') {
      if (lineId === undefined || !ID.test(lineId)) throw new TokenClaimsError('a notify token needs a line id');
    } else if (lineId !== undefined) {
      throw new TokenClaimsError(`a ${purpose} token carries no line id`);
    }
    if (purpose === 'click') {
      if (target === undefined) throw new TokenClaimsError('a click token needs a target URL');
      if (target.length > MAX_TARGET_LENGTH || !isHttpUrl(target)) {
        throw new TokenClaimsError('the click target must be an absolute http(s) URL');
      }
    } else if (target !== undefined) {
      throw new TokenClaimsError(`a ${purpose} token carries no target`);
    }
    const now = this.clock().getTime();
    const wire: WireClaims = {
      p: purpose,
      s: subject.shopId,
      r: subject.recoveryId,
      n: subject.step,
      c: subject.channel,
      k: subject.customerKey,
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + this.lifetimes[purpose]) / 1000),
      ...(target !== undefined ? { u: target } : {}),
      ...(lineId !== undefined ? { l: lineId } : {}),
    };
    const body = `${VERSION}.${Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url')}`;
    return `${body}.${this.mac(purpose, body).toString('base64url')}`;
  }

  /** Verifies signature, purpose and expiry; throws {@link InvalidTokenError}. */
  verify(purpose: TokenPurpose, token: string): TokenClaims {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('malformed', 'the link is not valid');
    }
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || !BASE64URL.test(parts[1]) || !BASE64URL.test(parts[2])) {
      throw new InvalidTokenError('malformed', 'the link is not valid');
    }
    const expected = this.mac(purpose, `${parts[0]}.${parts[1]}`);
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidTokenError('bad-signature', 'the link is not valid (it was altered or is not ours)');
    }
    const claims = parseClaims(parts[1]);
    if (claims === undefined || claims.p !== purpose) {
      throw new InvalidTokenError('malformed', 'the link is not valid');
    }
    const now = this.clock().getTime();
    if (now >= claims.exp * 1000) throw new InvalidTokenError('expired', 'the link has expired');
    return {
      purpose: claims.p,
      shopId: claims.s,
      recoveryId: claims.r,
      step: claims.n,
      channel: claims.c,
      customerKey: claims.k,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      ...(claims.u !== undefined ? { target: claims.u } : {}),
      ...(claims.l !== undefined ? { lineId: claims.l } : {}),
    };
  }

  private mac(purpose: TokenPurpose, body: string): Buffer {
    const key = this.keys.get(purpose);
    if (key === undefined) throw new TokenClaimsError(`unknown token purpose ${String(purpose)}`);
    return createHmac('sha256', key).update(body, 'utf8').digest();
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function assertSubject(subject: MessageLinkSubject): void {
  if (!ID.test(subject.shopId)) throw new TokenClaimsError('shopId is not an id');
  if (!ID.test(subject.recoveryId)) throw new TokenClaimsError('recoveryId is not an id');
  if (!Number.isSafeInteger(subject.step) || subject.step < 0) throw new TokenClaimsError('step must be an index');
  if (subject.channel !== 'email' && subject.channel !== 'sms') throw new TokenClaimsError('unknown channel');
  if (!CUSTOMER_KEY.test(subject.customerKey)) {
    throw new TokenClaimsError('customerKey must be an opaque customer key (e-…, t-…, p-…), never an address');
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function parseClaims(encoded: string): WireClaims | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const c = raw as Record<string, unknown>;
  const ok =
    typeof c.p === 'string' &&
    (TOKEN_PURPOSES as readonly string[]).includes(c.p) &&
    typeof c.s === 'string' &&
    typeof c.r === 'string' &&
    typeof c.n === 'number' &&
    Number.isSafeInteger(c.n) &&
    (c.c === 'email' || c.c === 'sms') &&
    typeof c.k === 'string' &&
    CUSTOMER_KEY.test(c.k) &&
    typeof c.iat === 'number' &&
    typeof c.exp === 'number' &&
    (c.u === undefined || (typeof c.u === 'string' && isHttpUrl(c.u))) &&
    (c.l === undefined || (typeof c.l === 'string' && ID.test(c.l))) &&
    (c.p !== 'notify' || typeof c.l === 'string');
  return ok ? (c as unknown as WireClaims) : undefined;
}
