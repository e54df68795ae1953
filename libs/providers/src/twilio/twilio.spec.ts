import { createHmac } from 'node:crypto';
import { classifyReply, parseInboundSms } from './inbound';
import { computeTwilioSignature, parseFormParams, verifyTwilioSignature } from './signature';

describe('Twilio signature', () => {
  const token = 'test-auth-token';
  const url = 'https://reclaim.example.com/webhooks/twilio/status?reclaim_key=r1%3Astep-0%3Asms';
  const params = { MessageSid: 'SM123', MessageStatus: 'sent', To: '+15551234567', AccountSid: 'AC1' };

  it('is base64 HMAC-SHA1 of the URL followed by the sorted names and values', () => {
    const data = `${url}AccountSid${params.AccountSid}MessageSid${params.MessageSid}MessageStatus${params.MessageStatus}To${params.To}`;
    const expected = createHmac('sha1', token).update(data).digest('base64');
    expect(computeTwilioSignature(token, url, params)).toBe(expected);
  });

  it('accepts the right signature whatever the parameter order', () => {
    const sig = computeTwilioSignature(token, url, params);
    const reordered = { To: params.To, AccountSid: params.AccountSid, MessageStatus: 'sent', MessageSid: 'SM123' };
    expect(verifyTwilioSignature(token, url, reordered, sig)).toBe(true);
  });

  it('refuses a flipped byte, another token, another URL, changed params or a missing header', () => {
    const sig = computeTwilioSignature(token, url, params);
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(verifyTwilioSignature(token, url, params, flipped)).toBe(false);
    expect(verifyTwilioSignature('other', url, params, sig)).toBe(false);
    expect(verifyTwilioSignature(token, url.replace('https', 'http'), params, sig)).toBe(false);
    expect(verifyTwilioSignature(token, url, { ...params, MessageStatus: 'delivered' }, sig)).toBe(false);
    expect(verifyTwilioSignature(token, url, params, undefined)).toBe(false);
    expect(verifyTwilioSignature(token, url, params, sig.slice(0, -1))).toBe(false);
  });

  it('covers repeated parameters from a form body', () => {
    const form = parseFormParams('MediaUrl=b&MediaUrl=a&Body=hi');
    expect(form).toEqual({ MediaUrl: ['b', 'a'], Body: 'hi' });
    const sig = computeTwilioSignature(token, url, form);
    const data = `${url}BodyhiMediaUrlaMediaUrlb`;
    expect(sig).toBe(createHmac('sha1', token).update(data).digest('base64'));
  });
});

describe('STOP-family replies (R26)', () => {
  it.each([
    ['STOP', 'stop', false],
    ['stop', 'stop', false],
    ['Stop.', 'stop', true],
    ['please stop', 'stop', true],
    ['STOP PLEASE!!', 'stop', true],
    ['QUIT', 'quit', false],
    ['END', 'end', false],
    ['CANCEL', 'cancel', false],
    ['UNSUBSCRIBE', 'unsubscribe', false],
    ['REVOKE', 'revoke', false],
    ['OPT OUT', 'opt out', true],
    ['optout', 'optout', false],
    ['STOPALL', 'stopall', false],
    ['  stop\u200B ', 'stop', true],
    ['ＳＴＯＰ', 'stop', true],
  ])('%j is an opt-out (%s)', (body, keyword, confirmationRequired) => {
    const r = classifyReply(body);
    expect(r.intent).toBe('opt-out');
    expect(r.keyword).toBe(keyword);
    expect(r.confirmationRequired).toBe(confirmationRequired);
  });

  it.each(['stop texting me', 'Please stop sending', 'unsubscribe me'])('%j is an opt-out phrase', (body) => {
    expect(classifyReply(body)).toMatchObject({ intent: 'opt-out', confirmationRequired: true });
  });

  it.each(["don't stop", 'can I cancel my order?', 'when does the sale end', 'thanks!', 'stopwatch'])(
    '%j is an ordinary message',
    (body) => {
      expect(classifyReply(body).intent).toBe('message');
    },
  );

  it('recognises START and HELP', () => {
    expect(classifyReply('START').intent).toBe('opt-in');
    expect(classifyReply('unstop').intent).toBe('opt-in');
    expect(classifyReply('HELP').intent).toBe('help');
  });

  it('reads an inbound webhook, preferring Twilio Advanced Opt-Out OptOutType', () => {
    expect(
      parseInboundSms({ From: '+15551234567', To: '+15005550006', Body: 'please stop', MessageSid: 'SM1' }),
    ).toEqual({
      intent: 'opt-out',
      keyword: 'stop',
      confirmationRequired: true,
      from: '+15551234567',
      to: '+15005550006',
      messageSid: 'SM1',
    });
    expect(parseInboundSms({ Body: 'arrêt', OptOutType: 'STOP' })).toMatchObject({
      intent: 'opt-out',
      confirmationRequired: false,
    });
    expect(parseInboundSms({ Body: 'hello' })).toMatchObject({ intent: 'message' });
  });
});
