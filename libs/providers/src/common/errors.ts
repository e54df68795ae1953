import { PermanentProviderError } from '@reclaim/application/recovery/ports';

/**
 * The recipient has opted out at the provider (Twilio 21610: replied STOP). Permanent for this
 * message; the caller should record a channel opt-out rather than a plain failure.
 */
export class RecipientOptedOutError extends PermanentProviderError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'RecipientOptedOutError';
  }
}
