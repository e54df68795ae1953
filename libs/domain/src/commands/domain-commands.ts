/**
 * The commands the deciders take, per aggregate (each declared in `<aggregate>.messages.ts`).
 */
import type { CartCommand } from '../cart/cart.messages';
import type { CustomerCommand } from '../customer/customer.messages';
import type { OrderCommand } from '../order/order.messages';
import type { ShopCommand } from '../shop/shop.messages';

export type DomainCommand = CartCommand | CustomerCommand | OrderCommand | ShopCommand;
