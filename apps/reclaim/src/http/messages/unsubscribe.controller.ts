import { Controller, Get, HttpCode, Inject, Logger, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InvalidTokenError, ShopGoneError, type TokenClaims } from '@reclaim/application/messages';
import {
  escapeHtml,
  LINK_RESPONSE_HEADERS,
  MESSAGE_LINK_DEPS,
  refusalMessage,
  refusalStatus,
  type MessageLinkDeps,
} from './message-links.deps';

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/**
 * Unsubscribe (R24, R25). `POST /u/:token` is the RFC 8058 one-click endpoint the mailbox
 * provider calls: cookie-less, the body (`List-Unsubscribe=One-Click`) is not needed — the signed
 * token is the authority. `GET /u/:token` only shows a confirmation page whose form POSTs
 * (`?via=page`): link scanners that prefetch GETs never unsubscribe anyone.
 */
@ApiTags('public message links')
@Controller('u')
export class UnsubscribeController {
  private readonly logger = new Logger(UnsubscribeController.name);

  constructor(@Inject(MESSAGE_LINK_DEPS) private readonly deps: MessageLinkDeps) {}

  @ApiOperation({
    summary: 'Unsubscribe confirmation page (a GET never unsubscribes: link scanners prefetch it)',
  })
  @ApiParam({ name: 'token', description: 'signed unsubscribe token from the message' })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'HTML page whose form POSTs to /u/{token}?via=page' })
  @Get(':token')
  async page(@Param('token') token: string, @Res() reply: FastifyReply): Promise<void> {
    const claims = this.verify(token);
    if (claims instanceof InvalidTokenError) {
      await this.html(reply, refusalStatus(claims), 'Link not valid', `<p>${escapeHtml(refusalMessage(claims))}</p>`);
      return;
    }
    const what = claims.channel === 'sms' ? 'text messages' : 'emails';
    await this.html(
      reply,
      200,
      'Unsubscribe',
      `<p>Stop receiving cart reminder ${what} from this shop?</p>
<form method="post" action="/u/${escapeHtml(token)}?via=page">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
    );
  }

  @ApiOperation({
    summary: 'RFC 8058 one-click unsubscribe (List-Unsubscribe-Post), or the confirmation form',
    description: 'Body `List-Unsubscribe=One-Click` (form-encoded, optional: the signed token is the authority).',
  })
  @ApiParam({ name: 'token', description: 'signed unsubscribe token from the message' })
  @ApiQuery({ name: 'via', required: false, enum: ['page'], description: '`page`: answer with an HTML page' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiResponse({ status: 200, description: 'unsubscribed (idempotent)' })
  @Post(':token')
  @HttpCode(200)
  async unsubscribe(
    @Param('token') token: string,
    @Query('via') via: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const fromPage = via === 'page';
    const claims = this.verify(token);
    if (claims instanceof InvalidTokenError) {
      const status = refusalStatus(claims);
      if (fromPage) await this.html(reply, status, 'Link not valid', `<p>${escapeHtml(refusalMessage(claims))}</p>`);
      else
        await reply
          .status(status)
          .headers(LINK_RESPONSE_HEADERS)
          .type('text/plain; charset=utf-8')
          .send(refusalMessage(claims));
      return;
    }
    try {
      await this.deps.unsubscribes.recordUnsubscribe({
        shopId: claims.shopId,
        customerKey: claims.customerKey,
        channel: claims.channel,
        recoveryId: claims.recoveryId,
        step: claims.step,
        at: this.deps.clock(),
        source: fromPage ? 'link' : 'one-click',
      });
    } catch (err) {
      if (err instanceof ShopGoneError) {
        // Final: the shop is gone, so nothing more can be sent from it — not a reason to try again.
        const gone = 'This shop no longer sends cart reminders through this service: you will not receive any more.';
        if (fromPage) await this.html(reply, 200, 'Nothing more will be sent', `<p>${gone}</p>`);
        else await reply.status(200).headers(LINK_RESPONSE_HEADERS).type('text/plain; charset=utf-8').send(gone);
        return;
      }
      this.logger.error(
        { err: err instanceof Error ? err.name : 'unknown', shopId: claims.shopId },
        'unsubscribe not recorded',
      );
      const message = 'We could not record your request just now. Please try again in a few minutes.';
      if (fromPage) await this.html(reply, 503, 'Please try again', `<p>${message}</p>`);
      else await reply.status(503).headers(LINK_RESPONSE_HEADERS).type('text/plain; charset=utf-8').send(message);
      return;
    }
    const done = 'You have been unsubscribed. You will not receive further cart reminders from this shop.';
    if (fromPage) await this.html(reply, 200, 'Unsubscribed', `<p>${done}</p>`);
    else await reply.status(200).headers(LINK_RESPONSE_HEADERS).type('text/plain; charset=utf-8').send(done);
  }

  private verify(token: string): TokenClaims | InvalidTokenError {
    try {
      return this.deps.tokens.verify('unsubscribe', token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return err;
      throw err;
    }
  }

  private async html(reply: FastifyReply, status: number, title: string, body: string): Promise<void> {
    await reply
      .status(status)
      .headers({ ...LINK_RESPONSE_HEADERS, 'content-security-policy': PAGE_CSP })
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head><body style="font-family:Helvetica,Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5"><h1 style="font-size:1.4rem">${escapeHtml(title)}</h1>${body}</body></html>`,
      );
  }
}
