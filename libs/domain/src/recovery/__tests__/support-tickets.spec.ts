import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCustomerTickets, ticketConcern } from '../support-tickets';
import type { RecoveryItem } from '../types';

const items: RecoveryItem[] = [
  {
    lineId: 'l1',
    productId: '632910392',
    variantId: '808950810',
    title: 'IPod Nano - 8GB',
    quantity: 1,
    unitPrice: '199.00',
  },
  { lineId: 'l2', productId: '921728736', title: 'Crème Brûlée Torch', quantity: 1, unitPrice: '51.00' },
];
const cart = { items };
const CART = 'c-77';

const FIXTURE = join(
  __dirname,
  '../../../../../../shared/fixtures/zendesk/search_tickets_by_requester_CONSTRUCTED_from_docs_examples.json',
);

describe('which of the customer’s open tickets concern the cart', () => {
  it('a ticket naming a product of the cart (title, any case or accents; product or variant id)', () => {
    expect(
      ticketConcern({ ticketId: '1', subject: 'Question about the iPod nano - 8gb' }, cart, CART, 'mentions'),
    ).toEqual({ ticketId: '1', concern: 'product', productIds: ['632910392'] });
    expect(
      ticketConcern({ ticketId: '2', text: 'Is the creme brulee torch refillable?' }, cart, CART, 'mentions'),
    ).toMatchObject({ concern: 'product', productIds: ['921728736'] });
    expect(ticketConcern({ ticketId: '3', text: 'variant 808950810 size?' }, cart, CART, 'mentions')).toMatchObject({
      concern: 'product',
      productIds: ['632910392'],
    });
  });

  it('the product name without the variant the line title carries', () => {
    const lamp = {
      items: [{ lineId: 'l', productId: '78', title: 'Desk lamp (Brass)', quantity: 1, unitPrice: '250.00' }],
    };
    expect(ticketConcern({ ticketId: '9', subject: 'Desk lamp: E27 bulbs?' }, lamp, CART, 'mentions')).toMatchObject({
      concern: 'product',
      productIds: ['78'],
    });
    const dashed = { items: [{ ...lamp.items[0]!, title: 'Walnut desk - Large' }] };
    expect(ticketConcern({ ticketId: '10', text: 'is the walnut desk oiled' }, dashed, CART, 'mentions')).toMatchObject(
      {
        concern: 'product',
      },
    );
  });

  it('a ticket naming the cart or an order', () => {
    expect(ticketConcern({ ticketId: '4', text: `my cart ${CART} is gone` }, cart, CART, 'mentions')).toMatchObject({
      concern: 'cart',
    });
    expect(ticketConcern({ ticketId: '5', subject: 'Where is order #1001?' }, cart, CART, 'mentions')).toMatchObject({
      concern: 'order',
    });
    expect(
      ticketConcern({ ticketId: '6', text: 'Order no. 4512 arrived broken' }, cart, CART, 'mentions'),
    ).toMatchObject({ concern: 'order' });
  });

  it('an unrelated ticket counts only with `any`; part of a word is no mention', () => {
    const other = { ticketId: '7', subject: 'Help, my printer is on fire!', text: 'The fire is very colorful.' };
    expect(ticketConcern(other, cart, CART, 'mentions')).toBeUndefined();
    expect(ticketConcern(other, cart, CART, 'any')).toEqual({ ticketId: '7', concern: 'any' });
    expect(
      ticketConcern(
        { ticketId: '8', text: 'the torches' },
        { items: [{ ...items[0], title: 'torch' }] },
        CART,
        'mentions',
      ),
    ).toBeUndefined();
  });

  it('reads a Zendesk search result against the cart (docs example), recording ids only', () => {
    if (!existsSync(FIXTURE)) {
      console.warn(`skipped: ${FIXTURE} not found`);
      return;
    }
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
      results: { id: number; subject: string; description: string }[];
    };
    const tickets = body.results.map((t) => ({ ticketId: String(t.id), subject: t.subject, text: t.description }));
    expect(readCustomerTickets(tickets, cart, CART, 'mentions')).toEqual({
      kind: 'found',
      openTickets: 1,
      concerning: [],
    });
    const printer = { items: [{ lineId: 'p', productId: '55', title: 'Printer', quantity: 1, unitPrice: '99.00' }] };
    expect(readCustomerTickets(tickets, printer, CART, 'mentions')).toEqual({
      kind: 'found',
      openTickets: 1,
      concerning: [{ ticketId: '35436', concern: 'product', productIds: ['55'] }],
    });
  });
});
