/**
 * The customer's time zone from the address in each platform's sample payloads (../shared/fixtures):
 * a Shopify checkout and customer, a WooCommerce customer (the REST order sample's billing and
 * shipping objects, which the customer resource shares), and a BigCommerce v3 customer with its
 * addresses (no BigCommerce sample carries an address: built from the API reference's fields).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlaceOrder, RecordCartActivity, UpsertCustomer } from '@reclaim/domain';
import type { RawWebhook } from '@reclaim/ports';
import { hmacSha256, parseJsonLossless, timeZoneOfAddress, type JsonObject } from './common';
import { shopifyWebhookAdapter } from './shopify';
import { mapBigCommerceCustomer, mapBigCommerceOrder } from './bigcommerce';
import { mapWooCustomer, mapWooOrder } from './woocommerce/woocommerce-mappers';

const FIXTURES = path.resolve(__dirname, '../../..', '../shared/fixtures');
const SECRET = 'tz-test-secret';
const NOW = new Date('2026-03-01T12:00:00Z');
const describeIfFixtures = existsSync(FIXTURES) ? describe : describe.skip;
const read = (rel: string) => readFileSync(path.join(FIXTURES, rel));
const json = (rel: string) => JSON.parse(read(rel).toString('utf8')) as Record<string, unknown>;

/** As the adapters parse a body (numbers kept exactly). */
const lossless = (value: unknown): JsonObject => parseJsonLossless(JSON.stringify(value)) as JsonObject;

function shopify(file: string, topic: string) {
  const body = read(`shopify/${file}`);
  const raw: RawWebhook = {
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': 'snowdevil.myshopify.com',
      'x-shopify-webhook-id': `wh-${file}`,
      'x-shopify-api-version': '2026-07',
      'x-shopify-hmac-sha256': hmacSha256(SECRET, body).toString('base64'),
    },
    body,
    receivedAt: NOW,
  };
  const inspected = shopifyWebhookAdapter.inspect(raw);
  if (!inspected.ok) throw new Error(inspected.error);
  const result = shopifyWebhookAdapter.map(inspected, { shopCurrency: 'USD' });
  if (result.outcome !== 'commands') throw new Error(JSON.stringify(result));
  return result.commands;
}

describeIfFixtures('the customer time zone from the sample payloads', () => {
  it('Shopify checkout: the shipping address (Kentucky) gives the cart its zone', () => {
    const [activity] = shopify('webhook_checkouts_update.json', 'checkouts/update') as [RecordCartActivity];
    expect(activity.type).toBe('RecordCartActivity');
    expect(activity.timeZone).toBe('America/Kentucky/Louisville');
  });

  it("Shopify customer: the default address (Ottawa, Ontario) gives the customer's zone", () => {
    const [upsert] = shopify('webhook_customers_create.json', 'customers/create') as [UpsertCustomer];
    expect(upsert.type).toBe('UpsertCustomer');
    expect(upsert.timeZone).toBe('America/Toronto');
  });

  it('Shopify order: the shipping address gives the order its zone', () => {
    const order = shopify('webhook_orders_create.json', 'orders/create').find((c) => c.type === 'PlaceOrder') as
      PlaceOrder | undefined;
    expect(order?.timeZone).toBe('America/Kentucky/Louisville');
  });

  it('WooCommerce order sample: billing / shipping in San Francisco, CA', () => {
    const order = parseJsonLossless(read('woocommerce/webhook_order_created_body.json')) as JsonObject;
    expect(mapWooOrder(order, 'USD', NOW).timeZone).toBe('America/Los_Angeles');
  });

  it('BigCommerce v2 order billing address (country_iso2, state name)', () => {
    const order = lossless({
      id: 100,
      customer_id: 11,
      date_created: 'Thu, 05 Mar 2026 10:00:00 +0000',
      date_modified: 'Thu, 05 Mar 2026 10:00:00 +0000',
      currency_code: 'USD',
      total_inc_tax: '20.0000',
      billing_address: {
        first_name: 'Jane',
        city: 'Denver',
        state: 'Colorado',
        zip: '80202',
        country: 'United States',
        country_iso2: 'US',
        email: 'jane@example.com',
      },
    });
    const mapped = mapBigCommerceOrder({ order, products: [] }, { shopCurrency: 'USD', receivedAt: NOW });
    expect(mapped.timeZone).toBe('America/Denver');
  });

  it('WooCommerce customer: billing / shipping in San Francisco, CA', () => {
    const order = json('woocommerce/webhook_order_created_body.json');
    const customer = {
      id: 25,
      email: 'john.doe@example.com',
      first_name: 'John',
      last_name: 'Doe',
      billing: order['billing'],
      shipping: order['shipping'],
    };
    expect(mapWooCustomer(lossless(customer), NOW).timeZone).toBe('America/Los_Angeles');
  });

  it('BigCommerce v3 customer with addresses (include=addresses)', () => {
    const customer = {
      id: 11,
      email: 'jane@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      date_created: '2026-01-05T10:00:00Z',
      date_modified: '2026-02-05T10:00:00Z',
      addresses: [
        {
          id: 1,
          customer_id: 11,
          city: 'Austin',
          state_or_province: 'Texas',
          postal_code: '78701',
          country_code: 'US',
          country: 'United States',
        },
      ],
    };
    expect(mapBigCommerceCustomer(lossless(customer), { receivedAt: NOW }).timeZone).toBe('America/Chicago');
    expect(
      mapBigCommerceCustomer(lossless({ ...customer, addresses: [] }), { receivedAt: NOW }).timeZone,
    ).toBeUndefined();
  });
});

describe('timeZoneOfAddress', () => {
  it.each([
    [{ country: 'DE' }, 'Europe/Berlin'],
    [{ country: 'Germany' }, 'Europe/Berlin'],
    [{ country: 'United States', regionName: 'Texas' }, 'America/Chicago'],
    [{ country: 'US', region: 'ky' }, 'America/Kentucky/Louisville'],
    [{ country: 'US', region: 'KY', city: 'Lexington' }, 'America/New_York'],
    [{ country: 'AU', regionName: 'Western Australia' }, 'Australia/Perth'],
    [{ country: 'US', latitude: 40.71, longitude: -74.0 }, 'America/New_York'],
    [{ country: 'US', latitude: 34.05, longitude: -118.24, region: 'NY' }, 'America/Los_Angeles'],
  ])('%j → %s', (place, zone) => {
    expect(timeZoneOfAddress(place)).toBe(zone);
  });

  it.each([[{ country: 'US' }], [{ country: 'CA', region: 'XX' }], [{ country: 'ZZ' }], [{ region: 'KY' }], [{}]])(
    'unknown for %j (a multi-zone country without a usable region, or no country): the shop zone applies',
    (place) => {
      expect(timeZoneOfAddress(place)).toBeUndefined();
    },
  );
});
