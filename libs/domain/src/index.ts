export * from './inbound/inbound-commands';
