import type {
  LinkContext,
  MessageRenderer,
  RecoveryLinks,
  RenderedMessage,
  RenderRequest,
} from '@reclaim/application/recovery';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** A plain renderer double: every value escaped, nothing compiled; records each request. */
export class FakeRenderer implements MessageRenderer {
  readonly requests: RenderRequest[] = [];

  async render(request: RenderRequest): Promise<RenderedMessage> {
    this.requests.push(request);
    const lines = request.items.map((i) => `${i.quantity} x ${i.title ?? 'item'} ${i.unitPrice} ${request.currency}`);
    const discount = request.discount ? `Code ${request.discount.code}: ${request.discount.percent}% off` : '';
    const text = [
      `[${request.templateId}] Hi ${request.customerName ?? 'there'}`,
      ...lines,
      `Total ${request.cartValue} ${request.currency}`,
      discount,
      request.checkoutUrl,
      `Unsubscribe: ${request.unsubscribeUrl}`,
    ]
      .filter((l) => l !== '')
      .join('\n');
    return {
      subject: `[${request.templateId}] You left something at ${request.shop.domain}`,
      html: `<pre>${escapeHtml(text)}</pre>`,
      text,
    };
  }
}

/** Unsigned, predictable links for tests. */
export class FakeLinks implements RecoveryLinks {
  unsubscribeUrl(c: LinkContext): string {
    return `https://reclaim.test/u/${encodeURIComponent(c.recoveryId)}/${c.step}/${c.channel}`;
  }

  checkoutUrl(c: LinkContext, target: string): string {
    return `https://reclaim.test/c/${encodeURIComponent(c.recoveryId)}/${c.step}?to=${encodeURIComponent(target)}`;
  }
}
