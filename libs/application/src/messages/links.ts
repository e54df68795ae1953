import { TokenClaimsError, type MessageLinkSubject, type MessageTokens } from './tokens';

/**
 * Builds the public URLs of one message from `PUBLIC_URL` and signed tokens:
 * `/u/<token>` (unsubscribe, also the List-Unsubscribe target), `/t/o/<token>.gif` (open pixel)
 * and `/t/c/<token>` (click). `secure` is false when PUBLIC_URL is plain http (development):
 * links still work, but mailbox providers ignore a non-https List-Unsubscribe (R25), so the
 * appliance should warn at start-up in that case.
 */
/** What the effect runner needs to build one message's links ({@link MessageLinks} in the appliance). */
export interface MessageLinkFactory {
  forMessage(subject: MessageLinkSubject): {
    unsubscribeUrl: string;
    trackingPixelUrl?: string;
    clickUrl: (target: string) => string;
    /** "Notify me when it is back" for a sold-out line; undefined when the line id cannot be signed. */
    notifyUrl?: (lineId: string) => string | undefined;
  };
}

export class MessageLinks implements MessageLinkFactory {
  readonly baseUrl: string;
  readonly secure: boolean;

  constructor(
    publicUrl: string,
    private readonly tokens: MessageTokens,
  ) {
    const url = new URL(publicUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('PUBLIC_URL must be http(s)');
    if (url.search || url.hash || url.username || url.password) {
      throw new Error('PUBLIC_URL must not carry a query, fragment or credentials');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.secure = url.protocol === 'https:';
  }

  unsubscribeUrl(subject: MessageLinkSubject): string {
    return `${this.baseUrl}/u/${this.tokens.unsubscribe(subject)}`;
  }

  openPixelUrl(subject: MessageLinkSubject): string {
    return `${this.baseUrl}/t/o/${this.tokens.open(subject)}.gif`;
  }

  clickUrl(subject: MessageLinkSubject, target: string): string {
    return `${this.baseUrl}/t/c/${this.tokens.click(subject, target)}`;
  }

  /** `/t/n/<token>`: the shopper asks to hear when a sold-out line is back. */
  notifyUrl(subject: MessageLinkSubject, lineId: string): string {
    return `${this.baseUrl}/t/n/${this.tokens.notify(subject, lineId)}`;
  }

  /** The links the renderer needs for one message. */
  forMessage(subject: MessageLinkSubject): {
    unsubscribeUrl: string;
    trackingPixelUrl: string;
    clickUrl: (target: string) => string;
    notifyUrl: (lineId: string) => string | undefined;
  } {
    return {
      unsubscribeUrl: this.unsubscribeUrl(subject),
      trackingPixelUrl: this.openPixelUrl(subject),
      clickUrl: (target) => this.clickUrl(subject, target),
      notifyUrl: (lineId) => {
        try {
          return this.notifyUrl(subject, lineId);
        } catch (err) {
          if (err instanceof TokenClaimsError) return undefined; // a line id we cannot sign: no link
          throw err;
        }
      },
    };
  }
}

/** Paths carrying message tokens, for log redaction: `/u/<token>` → `/u/:token`. */
export function redactMessageTokenPath(path: string): string {
  return path.replace(/^\/(u|t\/o|t\/c|t\/n)\/[^/?#]+/, (_m, prefix: string) => `/${prefix}/:token`);
}

/** True for the message-link routes (their POST bodies are form-encoded and ignored). */
export function isMessageLinkPath(path: string): boolean {
  return /^\/(u|t\/o|t\/c|t\/n)\//.test(path);
}
