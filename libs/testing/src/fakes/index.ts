export * from './faults';
export * from './channel.fake';
export * from './ticket.fake';
export * from './commerce.fake';
export * from './renderer.fake';
export * from './clock.fake';
export * from './shops.fake';
