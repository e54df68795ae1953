import type { RenderMessageInput } from './renderer';
import { templateEventProperties } from './template-event';

const input: RenderMessageInput = {
  templateId: 'welcome-0',
  kind: 'sales',
  channel: 'email',
  locale: 'en-US',
  shop: { id: 'shop-1', name: 'Tote Shop', domain: 'totes.example', postalAddress: '1 Canvas St', currency: 'USD' },
  items: [{ title: 'Jute tote', quantity: 2, unitPrice: '27.00', priceChanged: false, replaces: 'Canvas tote' }],
  soldOut: [{ title: 'Market tote', variantTitle: 'Red', notifyUrl: 'https://reclaim.example/t/n/v1.a.b' }],
  shipping: { method: 'Ground', estimate: '1-2 business days' },
  cartValue: '54.00',
  currency: 'USD',
  checkoutUrl: 'https://totes.example/cart',
  unsubscribeUrl: 'https://reclaim.example/u/v1.a.b',
  clickUrl: (target) => `https://reclaim.example/t/c/${encodeURIComponent(target)}`,
};

describe('template mode (Klaviyo): sold-out lines, alternatives and shipping', () => {
  it('carries what replaced a sold-out line, the lines named as sold out and the shipping estimate', () => {
    const props = templateEventProperties(input, { segments: [] });
    expect(props.items[0]).toMatchObject({ title: 'Jute tote', replaces: 'Canvas tote' });
    expect(props.sold_out).toEqual([
      { title: 'Market tote', variant: 'Red', notify_url: 'https://reclaim.example/t/n/v1.a.b' },
    ]);
    expect(props.shipping).toEqual({ method: 'Ground', estimate: '1-2 business days' });
  });

  it('null and empty when there is nothing to say', () => {
    const { soldOut: _s, shipping: _h, ...plain } = input;
    const props = templateEventProperties(
      { ...plain, items: [{ title: 'Tote', quantity: 1, unitPrice: '24.50', priceChanged: false }] },
      { segments: [] },
    );
    expect(props.items[0]?.replaces).toBeNull();
    expect(props.sold_out).toEqual([]);
    expect(props.shipping).toBeNull();
  });
});
