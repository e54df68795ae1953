import { defaultRecoveryConfig, recoveryConfig } from '../config';
import { segment, type CartFeatures, type CustomerFeatures } from '../segments';
import {
  defaultSequences,
  selectSequence,
  validateSequence,
  validateSequenceCatalogue,
  type SequenceDefinition,
} from '../sequences';
import { HOUR } from '../time';
import { newCustomer } from './fixtures';

const thresholds = defaultRecoveryConfig.segments;
const cartF = (o: Partial<CartFeatures> = {}): CartFeatures => ({
  value: '80.00',
  categories: ['shoes'],
  itemCount: 2,
  device: 'desktop',
  ...o,
});
const returning = (o: Partial<CustomerFeatures> = {}): CustomerFeatures => ({
  ...newCustomer,
  ordersCount: 2,
  totalSpent: '150.00',
  categoriesBought: ['shoes'],
  ...o,
});

describe('segments', () => {
  it('new customer', () => {
    expect(segment(newCustomer, cartF(), thresholds).segments).toEqual(['new']);
  });

  it('returning customer buying in known categories', () => {
    expect(segment(returning(), cartF(), thresholds).segments).toEqual(['returning']);
  });

  it('VIP by order count or by total spent', () => {
    expect(segment(returning({ ordersCount: 5 }), cartF(), thresholds).segments).toContain('vip');
    expect(segment(returning({ totalSpent: '1000.00' }), cartF(), thresholds).segments).toContain('vip');
    expect(segment(returning({ totalSpent: '999.99' }), cartF(), thresholds).segments).not.toContain('vip');
  });

  it('returning customer exploring a new category', () => {
    expect(segment(returning(), cartF({ categories: ['shoes', 'hats'] }), thresholds).segments).toContain(
      'returning-exploring-new-category',
    );
  });

  it('not exploring when the categories bought are unknown', () => {
    expect(
      segment(returning({ categoriesBought: [] }), cartF({ categories: ['shoes', 'hats'] }), thresholds).segments,
    ).not.toContain('returning-exploring-new-category');
  });

  it('high-value cart at the threshold, in decimals', () => {
    expect(segment(newCustomer, cartF({ value: '200.00' }), thresholds).segments).toContain('high-value-cart');
    expect(segment(newCustomer, cartF({ value: '199.99' }), thresholds).segments).not.toContain('high-value-cart');
  });

  it('price-sensitive: used a discount before, or abandoned after seeing shipping', () => {
    expect(segment(returning({ discountOrdersCount: 1 }), cartF(), thresholds).segments).toContain('price-sensitive');
    expect(segment(newCustomer, cartF({ checkoutStage: 'shipping' }), thresholds).segments).toContain(
      'price-sensitive',
    );
    expect(segment(newCustomer, cartF({ checkoutStage: 'contact' }), thresholds).segments).not.toContain(
      'price-sensitive',
    );
  });

  it('mobile checkout friction: mobile and inside checkout', () => {
    expect(segment(newCustomer, cartF({ device: 'mobile', checkoutStage: 'contact' }), thresholds).segments).toContain(
      'mobile-checkout-friction',
    );
    expect(segment(newCustomer, cartF({ device: 'mobile', checkoutStage: 'cart' }), thresholds).segments).not.toContain(
      'mobile-checkout-friction',
    );
  });

  it('thresholds are configurable and recorded with the inputs', () => {
    const custom = recoveryConfig({ highValueThreshold: '50' }).segments;
    const result = segment(newCustomer, cartF(), custom);
    expect(result).toEqual({
      segments: ['new', 'high-value-cart'],
      customer: newCustomer,
      cart: cartF(),
      thresholds: custom,
    });
  });
});

describe('sequences', () => {
  const catalogue = defaultSequences(defaultRecoveryConfig);

  it('defaults: step 0 at abandonment then 6h, 24h, 72h with 0/5/10/15% (the routed bands’ own in routing.spec)', () => {
    for (const sequence of catalogue.sequences.filter((s) => s.routedOnly !== true)) {
      expect(sequence.steps.map((s) => s.delayMs)).toEqual([0, 6 * HOUR, 24 * HOUR, 72 * HOUR]);
      expect(sequence.steps.map((s) => s.discountPercent)).toEqual([0, 5, 10, 15]);
    }
    expect(validateSequenceCatalogue(catalogue)).toEqual([]);
  });

  it('premium for carts >= HIGH_VALUE_THRESHOLD, loyalty for returning, welcome for new', () => {
    expect(selectSequence(['new', 'high-value-cart'], { value: '200' }, catalogue)?.id).toBe('premium');
    expect(selectSequence(['returning', 'high-value-cart'], { value: '350.50' }, catalogue)?.id).toBe('premium');
    expect(selectSequence(['returning'], { value: '199.99' }, catalogue)?.id).toBe('loyalty');
    expect(selectSequence(['new'], { value: '20' }, catalogue)?.id).toBe('welcome');
  });

  it('follows a configured HIGH_VALUE_THRESHOLD', () => {
    const custom = defaultSequences(recoveryConfig({ highValueThreshold: '500' }));
    expect(selectSequence(['new'], { value: '300' }, custom)?.id).toBe('welcome');
    expect(selectSequence(['new'], { value: '500' }, custom)?.id).toBe('premium');
  });

  it('validator returns field-named errors', () => {
    const bad = {
      id: 'Bad Id',
      version: 0,
      match: { anySegments: ['whales'], minCartValue: '12,50' },
      steps: [
        { index: 0, delayMs: 0, channels: ['email'], discountPercent: 0, template: 'a' },
        { index: 2, delayMs: 0, channels: ['fax', 'email', 'email'], discountPercent: 120, template: ' ' },
      ],
    } as unknown as SequenceDefinition;
    expect(validateSequence(bad).map((e) => e.field)).toEqual([
      'id',
      'version',
      'match.anySegments[0]',
      'match.minCartValue',
      'steps[1].index',
      'steps[1].delayMs',
      'steps[1].channels[0]',
      'steps[1].channels[2]',
      'steps[1].discountPercent',
      'steps[1].template',
    ]);
  });

  it('a catalogue needs unique ids and a catch-all last', () => {
    const [premium, loyalty] = catalogue.sequences;
    const errors = validateSequenceCatalogue({ version: 1, sequences: [premium, loyalty, { ...loyalty }] });
    expect(errors).toEqual([
      { field: 'sequences[2].id', message: "duplicate id 'loyalty'" },
      expect.objectContaining({ field: 'sequences[2].match' }),
    ]);
  });

  it('a sequence without steps is rejected', () => {
    expect(validateSequence({ id: 'x', version: 1, match: {}, steps: [] })).toEqual([
      { field: 'steps', message: 'must contain at least one step' },
    ]);
  });
});
