import { parseJsonLossless, type JsonObject } from '../common';
import { bigCommerceShipping, mapBigCommerceCart } from './bigcommerce-api.mappers';

/** The cart and its checkout as `resolve` hands them to the mapper (documented fields only). */
const cart = {
  data: {
    id: 'c1',
    customer_id: 0,
    email: 'jane@example.com',
    currency: { code: 'USD' },
    base_amount: 20,
    cart_amount: 20,
    line_items: {
      physical_items: [
        { id: 'li1', product_id: 77, variant_id: 78, name: 'Tote', quantity: 1, list_price: 20, sale_price: 20 },
      ],
      digital_items: [],
      custom_items: [],
    },
    created_time: '2026-03-01T10:00:00+00:00',
    updated_time: '2026-03-01T10:05:00+00:00',
  },
};
const option = {
  id: 'o1',
  type: 'shipping_byweight',
  description: 'Ground',
  cost: 5,
  transit_time: '1-2 business days',
};
const checkout = (consignments: unknown[]) =>
  parseJsonLossless(JSON.stringify({ data: { id: 'c1', consignments } })) as JsonObject;

describe('BigCommerce shipping estimate from the cart’s checkout', () => {
  it('takes the chosen option’s description and transit_time, as BigCommerce states them', () => {
    const body = parseJsonLossless(
      JSON.stringify({
        ...cart,
        checkout: { data: { id: 'c1', consignments: [{ id: 'k1', selected_shipping_option: option }] } },
      }),
    );
    expect(mapBigCommerceCart(body, { shopCurrency: 'USD', receivedAt: new Date() })).toMatchObject({
      checkoutStage: 'payment',
      shipping: { method: 'Ground', estimate: '1-2 business days' },
    });
  });

  it('says nothing when no option is chosen or it states neither', () => {
    expect(bigCommerceShipping(undefined)).toBeUndefined();
    expect(
      bigCommerceShipping(checkout([{ id: 'k1', available_shipping_options: [option] }]).data as JsonObject),
    ).toBeUndefined();
    expect(
      bigCommerceShipping(checkout([{ id: 'k1', selected_shipping_option: { id: 'o1', cost: 5 } }]).data as JsonObject),
    ).toBeUndefined();
    const body = parseJsonLossless(JSON.stringify(cart));
    expect(mapBigCommerceCart(body, { shopCurrency: 'USD', receivedAt: new Date() })).not.toHaveProperty('shipping');
  });
});
