export * from './signature';
export * from './inbound';
export * from './twilio';
