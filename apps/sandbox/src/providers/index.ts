export * from './kit';
export * from './klaviyo.stand-in';
export * from './twilio.stand-in';
export * from './gorgias.stand-in';
export * from './zendesk.stand-in';
export * from './smtp-sink';
export * from './sandbox';
