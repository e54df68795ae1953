/** Our own test payloads, written to the platforms' documented webhook formats. */

export const BIG_ID = '9007199254740993'; // 2^53 + 1: JSON.parse would turn it into ...992

export function shopifyCheckout(opts: {
  token: string;
  updatedAt: string;
  email?: string;
  price?: string;
  completedAt?: string | null;
  name?: string;
  /** `null`: no phone at all. */
  phone?: string | null;
  /**
   * The billing address's country (default `GB`, so the customer's zone is Europe/London); `null`:
   * none, so quiet hours fall back to the shop's zone — for tests that pick the shop's zone by the
   * hour they run at.
   */
  billingCountry?: string | null;
  /** Other line items than the one desk lamp (ids are written as JSON numbers, as Shopify sends them). */
  lines?: readonly {
    readonly key: string;
    readonly productId: string;
    readonly variantId: string;
    readonly title: string;
    readonly price: string;
    readonly quantity?: number;
  }[];
}): string {
  const DEFAULT_LINE = `{
      "key": "line-1",
      "product_id": 7823456789012345678,
      "variant_id": 9123456789012345678,
      "sku": "LAMP-1",
      "title": "Desk lamp ${opts.name ?? ''}",
      "variant_title": "Brass",
      "quantity": 1,
      "price": "${opts.price ?? '249.00'}",
      "vendor": "Lumen"
    }`;
  const lineItems =
    opts.lines === undefined
      ? undefined
      : opts.lines
          .map(
            (l) =>
              `{ "key": ${JSON.stringify(l.key)}, "product_id": ${l.productId}, "variant_id": ${l.variantId}, "title": ${JSON.stringify(l.title)}, "quantity": ${l.quantity ?? 1}, "price": "${l.price}" }`,
          )
          .join(',\n    ');
  // Built as text so the big ids stay exact numbers in the JSON, as Shopify sends them.
  return `{
  "id": ${BIG_ID},
  "token": "${opts.token}",
  "cart_token": "cart-${opts.token}",
  "email": ${opts.email === undefined ? '"ada@example.com"' : JSON.stringify(opts.email)},
  "phone": ${opts.phone === undefined ? '"+14155550123"' : JSON.stringify(opts.phone)},
  "buyer_accepts_marketing": true,
  "created_at": "2026-11-20T10:00:00-05:00",
  "updated_at": "${opts.updatedAt}",
  "completed_at": ${opts.completedAt ? `"${opts.completedAt}"` : 'null'},
  "currency": "USD",
  "presentment_currency": "USD",
  "subtotal_price": "${opts.price ?? '249.00'}",
  "total_price": "${opts.price ?? '249.00'}",
  "total_tax": "0.00",
  "landing_site": "/products/lamp?utm_source=newsletter",
  "referring_site": "https://search.example/",
  "abandoned_checkout_url": "https://shop.example/checkouts/${opts.token}/recover",
  "source_name": "web",
  "line_items": [
    ${lineItems ?? DEFAULT_LINE}
  ],
  "customer": {
    "id": 6012345678901234567,
    "email": ${opts.email === undefined ? '"ada@example.com"' : JSON.stringify(opts.email)},
    "first_name": "${opts.name ?? 'Ada'}",
    "last_name": "Lovelace",
    "orders_count": 2,
    "total_spent": "310.00"
  },
  "billing_address": { "first_name": "Ada", "last_name": "Lovelace", "address1": "1 Analytical Way", "city": "London"${
    opts.billingCountry === null ? '' : `, "country": ${JSON.stringify(opts.billingCountry ?? 'GB')}`
  } }
}`;
}

export function shopifyOrder(opts: { checkoutToken: string; orderId?: string; placedAt?: string }): string {
  const at = opts.placedAt ?? '2026-11-20T12:00:00-05:00';
  return `{
  "id": ${opts.orderId ?? '5512345678901234567'},
  "checkout_token": "${opts.checkoutToken}",
  "cart_token": "cart-${opts.checkoutToken}",
  "email": "ada@example.com",
  "created_at": "${at}",
  "updated_at": "${at}",
  "processed_at": "${at}",
  "currency": "USD",
  "total_price": "249.00",
  "subtotal_price": "249.00",
  "total_discounts": "0.00",
  "financial_status": "paid",
  "discount_codes": [],
  "landing_site": "/products/lamp",
  "line_items": [
    { "id": 1, "product_id": 7823456789012345678, "variant_id": 9123456789012345678, "title": "Desk lamp", "quantity": 1, "price": "249.00", "sku": "LAMP-1" }
  ],
  "customer": { "id": 6012345678901234567, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace" }
}`;
}

export function shopifyRedact(): string {
  return JSON.stringify({
    shop_id: 954889,
    shop_domain: 'lamps.myshopify.com',
    customer: { id: 0, email: 'ada@example.com', phone: '+14155550123' },
    orders_to_redact: [],
  }).replace('"id":0', '"id":6012345678901234567');
}
