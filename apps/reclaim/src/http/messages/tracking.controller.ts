import { Controller, Get, Inject, Logger, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InvalidTokenError, type TokenClaims, type TokenPurpose } from '@reclaim/application/messages';
import {
  LINK_RESPONSE_HEADERS,
  MESSAGE_LINK_DEPS,
  refusalMessage,
  refusalStatus,
  type MessageLinkDeps,
} from './message-links.deps';

/** A transparent 1×1 GIF. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * Open pixel and click tracking (R24). Tokens are verified before anything is recorded; a click
 * redirects only to an http(s) URL on one of the shop's own hosts (its domain or a configured
 * alias), never anywhere else — no open redirect, even with a validly signed token.
 */
@ApiTags('public message links')
@Controller('t')
export class TrackingController {
  private readonly logger = new Logger(TrackingController.name);

  constructor(@Inject(MESSAGE_LINK_DEPS) private readonly deps: MessageLinkDeps) {}

  @ApiOperation({
    summary: 'Open pixel of a recovery e-mail: records the open (once per message) and answers a 1×1 GIF',
  })
  @ApiParam({ name: 'file', description: '`<signed open token>.gif`, as written into the message' })
  @ApiResponse({ status: 200, description: 'image/gif, never cached' })
  @ApiResponse({ status: 400, description: 'not a valid token' })
  @Get('o/:file')
  async open(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    const token = file.endsWith('.gif') ? file.slice(0, -'.gif'.length) : file;
    const claims = this.verify('open', token);
    if (claims instanceof InvalidTokenError) return this.refuse(reply, claims);
    try {
      await this.deps.engagement.recordOpened({ ...subjectOf(claims), at: this.deps.clock() });
    } catch (err) {
      // An open is a statistic: the image is served either way.
      this.logger.warn(
        { err: err instanceof Error ? err.name : 'unknown', shopId: claims.shopId },
        'open not recorded',
      );
    }
    await reply
      .status(200)
      .headers({
        ...LINK_RESPONSE_HEADERS,
        'cache-control': 'no-store, no-cache, must-revalidate, private',
        pragma: 'no-cache',
      })
      .type('image/gif')
      .send(PIXEL_GIF);
  }

  @ApiOperation({
    summary: "Tracked link of a recovery message: records the click and redirects to the shop's own page",
    description: "Redirects only to an http(s) URL on the shop's domain or a configured alias (no open redirect).",
  })
  @ApiParam({ name: 'token', description: 'signed click token (carries the destination)' })
  @ApiResponse({ status: 302, description: 'to the destination on the shop' })
  @ApiResponse({ status: 400, description: 'not a valid token or destination' })
  @Get('c/:token')
  async click(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const claims = this.verify('click', token);
    if (claims instanceof InvalidTokenError) return this.refuse(reply, claims);
    const target = claims.target === undefined ? undefined : parseTarget(claims.target);
    if (target === undefined) return this.plain(reply, 400, 'This link has no valid destination.');
    const allowed = await this.deps.shopDomains.allowedHosts(claims.shopId);
    if (allowed === undefined || !isAllowedHost(target, allowed)) {
      this.logger.warn({ shopId: claims.shopId }, "click refused: destination is not one of the shop's domains");
      return this.plain(reply, 400, "This link does not lead to the shop's website, so it was not followed.");
    }
    try {
      await this.deps.engagement.recordClicked({ ...subjectOf(claims), at: this.deps.clock(), target: target.href });
    } catch (err) {
      // The shopper still gets to the shop; the click is only a statistic.
      this.logger.warn(
        { err: err instanceof Error ? err.name : 'unknown', shopId: claims.shopId },
        'click not recorded',
      );
    }
    await reply.status(302).headers(LINK_RESPONSE_HEADERS).header('location', target.href).send();
  }

  @ApiOperation({
    summary: '"Notify me" of a line named as sold out: records the request on the recovery and thanks the shopper',
    description:
      'The line is watched already since the message named it sold out; the request is recorded (once) and re-opens a watch that had ended.',
  })
  @ApiParam({ name: 'token', description: 'signed notify token (carries the cart line)' })
  @ApiResponse({ status: 200, description: 'a short thank-you page' })
  @ApiResponse({ status: 400, description: 'not a valid token' })
  @ApiResponse({ status: 503, description: 'the request could not be recorded now; the shopper may try again' })
  @Get('n/:token')
  async notify(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const claims = this.verify('notify', token);
    if (claims instanceof InvalidTokenError) return this.refuse(reply, claims);
    const record = this.deps.engagement.recordBackInStockRequest;
    if (record === undefined || claims.lineId === undefined) {
      return this.plain(reply, 400, 'This link is not valid.');
    }
    try {
      await record.call(this.deps.engagement, { ...subjectOf(claims), at: this.deps.clock(), lineId: claims.lineId });
    } catch (err) {
      this.logger.warn(
        { err: err instanceof Error ? err.name : 'unknown', shopId: claims.shopId },
        'back-in-stock request not recorded',
      );
      return this.plain(reply, 503, 'Your request could not be recorded just now. Please try the link again later.');
    }
    return this.plain(reply, 200, 'Thank you. We will let you know when it is back in stock.');
  }

  private verify(purpose: TokenPurpose, token: string): TokenClaims | InvalidTokenError {
    try {
      return this.deps.tokens.verify(purpose, token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return err;
      throw err;
    }
  }

  private refuse(reply: FastifyReply, err: InvalidTokenError): Promise<void> {
    return this.plain(reply, refusalStatus(err), refusalMessage(err));
  }

  private async plain(reply: FastifyReply, status: number, message: string): Promise<void> {
    await reply.status(status).headers(LINK_RESPONSE_HEADERS).type('text/plain; charset=utf-8').send(message);
  }
}

function subjectOf(claims: TokenClaims) {
  return {
    shopId: claims.shopId,
    customerKey: claims.customerKey,
    channel: claims.channel,
    recoveryId: claims.recoveryId,
    step: claims.step,
  };
}

function parseTarget(value: string): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (url.username !== '' || url.password !== '' || url.hostname === '') return undefined;
    return url;
  } catch {
    return undefined;
  }
}

/** `host` or `host:port` entries (or full URLs), compared case-insensitively, trailing dot ignored. */
export function isAllowedHost(target: URL, allowed: readonly string[]): boolean {
  const host = normaliseHost(target.host);
  return allowed.some((entry) => {
    const e = entry.trim();
    if (e === '') return false;
    let candidate: string;
    try {
      candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? new URL(e).host : new URL(`https://${e}`).host;
    } catch {
      return false;
    }
    return normaliseHost(candidate) === host;
  });
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.(?=:\d+$)|\.$/, '');
}
