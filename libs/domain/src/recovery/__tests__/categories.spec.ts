import type { Segmentation } from '../segments';
import { activity, at, cart, newCustomer, Run, start, T0, types } from './fixtures';

const returning = { ...newCustomer, ordersCount: 2, totalSpent: '150.00', categoriesBought: ['Shoes'] };
const plainCart = cart({
  items: [
    { lineId: 'l1', productId: '632910392', quantity: 1, unitPrice: '199.00' },
    { lineId: 'l2', productId: 'custom:l2', quantity: 1, unitPrice: '5.00' },
  ],
});

function segmentation(run: Run): Segmentation {
  const e = run.events.find((x) => x.type === 'recovery.segmented');
  if (e?.type !== 'recovery.segmented') throw new Error('not segmented');
  return e.segmentation;
}

describe("the store's product categories as recorded facts", () => {
  it('recorded while the cart is watched, they are the segmentation input and fire the new-category segment', () => {
    const run = new Run();
    run.send(activity(T0, plainCart));
    const recorded = run.send({
      type: 'RecordProductCategories',
      at: at(T0, 1_000),
      products: [
        { productId: '632910392', categories: [' Music players ', 'Electronics', 'Electronics'], found: true },
      ],
    });
    expect(recorded).toEqual([
      expect.objectContaining({
        type: 'recovery.categories-recorded',
        products: [{ productId: '632910392', categories: ['Electronics', 'Music players'], found: true }],
      }),
    ]);
    run.fire(undefined, start(0.5, returning));
    const s = segmentation(run);
    expect(s.cart.categories).toEqual(['Electronics', 'Music players']);
    expect(s.segments).toContain('returning-exploring-new-category');
  });

  it("the start context's categories (recorded by another recovery of the shop) are used when this stream has none", () => {
    const run = new Run();
    run.send(activity(T0, plainCart));
    run.fire(undefined, { ...start(0.5, returning), productCategories: { '632910392': ['Shoes'] } });
    const s = segmentation(run);
    expect(s.cart.categories).toEqual(['Shoes']);
    expect(s.segments).not.toContain('returning-exploring-new-category');
  });

  it('a failed look-up is recorded and the recovery starts without categories', () => {
    const run = new Run();
    run.send(activity(T0, plainCart));
    expect(
      types(
        run.send({
          type: 'RecordCategoriesUnavailable',
          at: at(T0, 1_000),
          productIds: ['632910392'],
          reason: 'timeout',
        }),
      ),
    ).toEqual(['recovery.categories-unavailable']);
    const fired = run.fire(undefined, start(0.5, returning));
    expect(types(fired)).toContain('recovery.segmented');
    expect(segmentation(run).cart.categories).toEqual([]);
  });

  it('refuses a malformed answer naming the field; ignores answers for an idle or ended recovery', () => {
    const run = new Run();
    expect(
      run.send({
        type: 'RecordProductCategories',
        at: T0,
        products: [{ productId: 'p', categories: [], found: true }],
      }),
    ).toEqual([]);
    run.send(activity(T0, plainCart));
    expect(() =>
      run.send({
        type: 'RecordProductCategories',
        at: T0,
        products: [{ productId: 'p', categories: [42 as unknown as string], found: true }],
      }),
    ).toThrow(/products\[0\]\.categories\[0\]/);
    expect(() => run.send({ type: 'RecordCategoriesUnavailable', at: T0, productIds: [''], reason: 'error' })).toThrow(
      /productIds\[0\]/,
    );
    run.send({ type: 'CartDeleted', at: at(T0, 1_000) });
    expect(
      run.send({ type: 'RecordCategoriesUnavailable', at: at(T0, 2_000), productIds: ['p'], reason: 'error' }),
    ).toEqual([]);
  });

  it('a product the store no longer knows is recorded as not found and adds nothing', () => {
    const run = new Run();
    run.send(activity(T0, plainCart));
    run.send({
      type: 'RecordProductCategories',
      at: T0,
      products: [{ productId: '632910392', categories: [], found: false }],
    });
    expect(run.state.productCategories).toEqual({});
  });
});
