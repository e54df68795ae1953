import type { ChannelMessage, ChannelPort } from './channel';

/**
 * A push notification to the customer's registered devices (web push, a shop app). An adapter
 * (libs/providers/<provider>/, e.g. a Firebase Cloud Messaging or OneSignal client) implements it
 * and is configured like the e-mail and SMS providers; until one is, the recovery engine treats
 * `push` as unavailable (`channel-unavailable`) and chooses among e-mail and SMS.
 *
 * `to` is the provider's subscriber or device id, opened from the vault just before the call;
 * `subject` is the notification's title, `body` its text, and `url` where a tap leads (the signed
 * checkout link of the message). The provider must dedupe on `idempotencyKey`.
 */
export interface PushMessage extends ChannelMessage {
  readonly channel: 'push';
  readonly body: string;
  readonly url?: string;
}

export interface PushChannelPort extends ChannelPort {
  send(message: PushMessage): Promise<{ readonly messageId: string }>;
}
