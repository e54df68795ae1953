/**
 * The recipient has opted out at the provider (Twilio 21610: replied STOP). Defined with the
 * engine's ports (the effect runner records a channel opt-out when a send throws it) and
 * re-exported here for the adapters.
 */
export { RecipientOptedOutError } from '@reclaim/ports';
