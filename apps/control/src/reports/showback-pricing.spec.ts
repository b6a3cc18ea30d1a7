import { minorUnitDigits, priceBasisOf, ShowbackPricing } from './showback-pricing';

const GIB = 2 ** 30;

describe(ShowbackPricing.name, () => {
  const sut = new ShowbackPricing({ currency: 'GBP', perUnitHour: { vcpu: 0.02, memory: 0.005, custom_gpu: 1.5 } });

  it('prices counted classes per unit-hour and byte classes per GiB-hour, rounded to pence', () => {
    expect(sut.costOf('vcpu', 'count', 5952)).toBe(119.04);
    expect(sut.costOf('memory', 'bytes', 12 * GIB)).toBe(0.06);
    expect(sut.costOf('memory', 'bytes', 4.5 * GIB)).toBe(0.02); // 0.0225
    expect(sut.costOf('custom_gpu', 'count', 0.5)).toBe(0.75);
  });

  it('rounds half away from zero on the decimal value, not its binary approximation', () => {
    // 0.201 × 5 = 1.005, which toFixed(2) would round down to 1.00.
    const pricing = new ShowbackPricing({ currency: 'GBP', perUnitHour: { vcpu: 0.201 } });
    expect(pricing.costOf('vcpu', 'count', 5)).toBe(1.01);
  });

  it('has no cost for a class without a price or without measured use', () => {
    expect(sut.costOf('storage', 'bytes', 40 * GIB)).toBeNull();
    expect(sut.costOf('memory', 'bytes', null)).toBeNull();
  });

  it('totals the rounded costs, leaving out those without one', () => {
    expect(sut.total([119.04, 0.06, null])).toBe(119.1);
    expect(sut.total([0.1, 0.2])).toBe(0.3);
    expect(sut.total([null, null])).toBeNull();
  });

  it('rounds to the minor unit of the currency', () => {
    expect(minorUnitDigits('GBP')).toBe(2);
    expect(minorUnitDigits('JPY')).toBe(0);
    expect(minorUnitDigits('BHD')).toBe(3);
    expect(new ShowbackPricing({ currency: 'JPY', perUnitHour: { vcpu: 3 } }).costOf('vcpu', 'count', 10.6)).toBe(32);
  });

  it('says what each price is per, by the class unit', () => {
    expect(sut.describe((name) => (name === 'memory' ? 'bytes' : 'count'))).toEqual({
      vcpu: { price: 0.02, per: 'unit-hour' },
      memory: { price: 0.005, per: 'GiB-hour' },
      custom_gpu: { price: 1.5, per: 'unit-hour' },
    });
    expect(priceBasisOf('bytes')).toBe('GiB-hour');
  });
});
