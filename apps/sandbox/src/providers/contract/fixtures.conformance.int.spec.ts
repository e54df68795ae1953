/**
 * The stand-ins and adapters checked against the providers' documented samples in ../shared/fixtures
 * (never copied into the repo). Skipped, with the reason printed, when that folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describeKlaviyoError } from '@reclaim/providers/klaviyo';
import { describeTwilioError } from '@reclaim/providers/twilio';
import { type ProviderSandbox, startProviderSandbox } from '../sandbox';

const FIXTURES = path.resolve(__dirname, '../../../../../../shared/fixtures');
const present = existsSync(FIXTURES);
const describeIfFixtures: (name: string, body: () => void) => void = present
  ? describe
  : (name, body) => describe.skip(`${name} [skipped: ${FIXTURES} not found]`, body);
if (!present) console.warn(`[providers conformance] skipped: fixtures folder ${FIXTURES} does not exist`);

const text = (rel: string) => readFileSync(path.join(FIXTURES, rel), 'utf8');
const json = (rel: string) => JSON.parse(text(rel)) as Record<string, unknown>;
const asResponse = (status: number, body: string) => ({ status, headers: {}, text: body });

describeIfFixtures('provider fixtures', () => {
  let sandbox: ProviderSandbox;
  beforeAll(async () => {
    sandbox = await startProviderSandbox();
  });
  afterAll(() => sandbox.stop());

  it('Klaviyo: the spec-example Create Event request is accepted (202) and deduplicated by unique_id', async () => {
    const doc = json('klaviyo/create_event_request_CONSTRUCTED_from_spec_examples.json');
    const attributes = (doc.data as { attributes: Record<string, unknown> }).attributes;
    attributes.unique_id = 'fixture-unique-id';
    const post = () =>
      fetch(`${sandbox.urls.klaviyo}/api/events/`, {
        method: 'POST',
        headers: {
          authorization: `Klaviyo-API-Key ${sandbox.credentials.klaviyoApiKey}`,
          revision: '2026-07-15',
          'content-type': 'application/vnd.api+json',
        },
        body: JSON.stringify(doc),
      });
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    expect(sandbox.stores.klaviyo.events.filter((e) => e.uniqueId === 'fixture-unique-id')).toHaveLength(1);
  });

  it('Klaviyo: the documented rate limits match the spec (x-klaviyo-ratelimit)', () => {
    const spec = json('klaviyo/openapi/create_event.json') as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(spec.paths['/api/events']!.post!['x-klaviyo-ratelimit']).toEqual({ burst: '350/s', steady: '3500/m' });
  });

  it('Klaviyo: a captured 400 body maps to its code, and the stand-in answers the same shape', async () => {
    expect(describeKlaviyoError(asResponse(400, text('klaviyo/error_400_invalid_captured.json')))).toEqual({
      code: 'invalid',
    });
    const res = await fetch(`${sandbox.urls.klaviyo}/api/events/`, {
      method: 'POST',
      headers: {
        authorization: `Klaviyo-API-Key ${sandbox.credentials.klaviyoApiKey}`,
        revision: '2026-07-15',
        'content-type': 'application/vnd.api+json',
      },
      body: JSON.stringify({ data: { type: 'event' } }),
    });
    const body = (await res.json()) as { errors: Record<string, unknown>[] };
    const captured = json('klaviyo/error_400_invalid_captured.json') as { errors: Record<string, unknown>[] };
    expect(res.status).toBe(400);
    expect(Object.keys(body.errors[0]!).sort()).toEqual(Object.keys(captured.errors[0]!).sort());
    expect(body.errors[0]!.detail).toBe(captured.errors[0]!.detail);
  });

  it('Twilio: the stand-in 201 has the documented fields, and the captured 21211 maps to its code', async () => {
    const res = await fetch(
      `${sandbox.urls.twilio}/2010-04-01/Accounts/${sandbox.credentials.twilioAccountSid}/Messages.json`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${sandbox.credentials.twilioAccountSid}:${sandbox.credentials.twilioAuthToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ To: '+14155552345', From: '+14155552345', Body: 'Hello! 👍' }).toString(),
      },
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(json('twilio/message_create_201.json')).sort());
    expect(describeTwilioError(asResponse(400, text('twilio/error_21211_400_captured.json')))).toEqual({
      code: '21211',
    });
    const bad = await fetch(
      `${sandbox.urls.twilio}/2010-04-01/Accounts/${sandbox.credentials.twilioAccountSid}/Messages.json`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${sandbox.credentials.twilioAccountSid}:${sandbox.credentials.twilioAuthToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ To: '11234', From: '+14155552345', Body: 'x' }).toString(),
      },
    );
    expect(await bad.json()).toEqual(json('twilio/error_21211_400_captured.json'));
  });

  it('Zendesk: the stand-in ticket uses the documented field names', async () => {
    const res = await fetch(`${sandbox.urls.zendesk}/api/v2/tickets.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sandbox.credentials.zendeskEmail}/token:${sandbox.credentials.zendeskApiToken}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        ticket: { subject: 'Help', comment: { body: 'The fire is very colorful.' }, external_id: 'ahg35h3jh' },
      }),
    });
    expect(res.status).toBe(201);
    const { ticket } = (await res.json()) as { ticket: Record<string, unknown> };
    const documented = Object.keys((json('zendesk/create_ticket_201_docs_example.json') as { ticket: object }).ticket);
    expect(Object.keys(ticket).filter((k) => !documented.includes(k))).toEqual([]);
  });

  it("Zendesk: the stand-in's ticket search answers in the Search API envelope with documented ticket fields", async () => {
    const email = 'conformance.requester@example.org';
    sandbox.stores.zendesk.openCustomerTicket({ email, subject: 'Help', description: 'The fire is very colorful.' });
    const res = await fetch(
      `${sandbox.urls.zendesk}/api/v2/search.json?${new URLSearchParams({ query: `type:ticket requester:${email} status<solved` })}`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${sandbox.credentials.zendeskEmail}/token:${sandbox.credentials.zendeskApiToken}`).toString('base64')}`,
        },
      },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: Record<string, unknown>[] } & Record<string, unknown>;
    const doc = json('zendesk/search_tickets_by_requester_CONSTRUCTED_from_docs_examples.json') as {
      results: Record<string, unknown>[];
    };
    expect(Object.keys(body).sort()).toEqual(Object.keys(doc).sort());
    expect(body.results).toHaveLength(1);
    const documented = Object.keys(doc.results[0]!);
    expect(Object.keys(body.results[0]!).filter((k) => !documented.includes(k))).toEqual([]);
    expect(body.results[0]).toMatchObject({ result_type: 'ticket', status: 'open' });
  });
});
