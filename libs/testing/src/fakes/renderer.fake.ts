import type {
  MessageLinkFactory,
  MessageLinkSubject,
  MessageRenderer,
  RenderedMessage,
  RenderMessageInput,
} from '@reclaim/application/messages';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * A plain renderer double with the real port's contract: every value escaped, nothing compiled,
 * List-Unsubscribe headers and the postal address on email; records each request.
 */
export class FakeRenderer implements MessageRenderer {
  readonly requests: RenderMessageInput[] = [];

  async render(request: RenderMessageInput): Promise<RenderedMessage> {
    this.requests.push(request);
    const lines = request.items.map((i) => `${i.quantity} x ${i.title} ${i.unitPrice} ${request.currency}`);
    const discount = request.discount ? `Code ${request.discount.code}: ${request.discount.percent}% off` : '';
    const text = [
      `[${request.templateId}] Hi ${request.customerName ?? 'there'}`,
      ...lines,
      `Total ${request.cartValue} ${request.currency}`,
      discount,
      request.clickUrl(request.checkoutUrl),
      `Unsubscribe: ${request.unsubscribeUrl}`,
      request.channel === 'email' ? request.shop.postalAddress : '',
    ]
      .filter((l) => l !== '')
      .join('\n');
    const email = request.channel === 'email';
    return {
      subject: email ? `[${request.templateId}] You left something at ${request.shop.domain}` : '',
      html: email ? `<pre>${escapeHtml(text)}</pre>` : '',
      text,
      headers: email
        ? {
            'List-Unsubscribe': `<${request.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          }
        : {},
      warnings: [],
      template: { id: request.templateId, origin: 'default' },
    };
  }
}

/** Unsigned, predictable links for tests (the real one is `MessageLinks`). */
export class FakeLinks implements MessageLinkFactory {
  forMessage(c: MessageLinkSubject) {
    const base = `https://reclaim.test`;
    const id = encodeURIComponent(c.recoveryId);
    return {
      unsubscribeUrl: `${base}/u/${id}/${c.step}/${c.channel}`,
      trackingPixelUrl: `${base}/t/o/${id}/${c.step}/${c.channel}.gif`,
      clickUrl: (target: string) => `${base}/t/c/${id}/${c.step}?to=${encodeURIComponent(target)}`,
    };
  }
}
