export * from './message-links.deps';
export { UnsubscribeController } from './unsubscribe.controller';
export { TrackingController, PIXEL_GIF, isAllowedHost } from './tracking.controller';

import { TrackingController } from './tracking.controller';
import { UnsubscribeController } from './unsubscribe.controller';

/** Register these in AppModule's `controllers`, with `messageLinkProviders(deps)` in `providers`. */
export const MESSAGE_LINK_CONTROLLERS = [UnsubscribeController, TrackingController];
