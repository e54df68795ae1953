export * from './common';
export * from './smtp';
export * from './klaviyo';
export * from './twilio';
export * from './gorgias';
export * from './zendesk';
