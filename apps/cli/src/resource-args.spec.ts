import { UsageError } from './cli-config';
import { parseResourceArgs } from './resource-args';

describe(parseResourceArgs.name, () => {
  it('sends counts as numbers and byte amounts as written, for control to convert exactly', () => {
    expect(parseResourceArgs(['vcpu=8', 'memory=32GiB', 'storage=1.5TB', 'custom_gpu=2'])).toEqual({
      vcpu: 8,
      memory: '32GiB',
      storage: '1.5TB',
      custom_gpu: 2,
    });
  });

  it.each([
    [[], /at least one resource/],
    [['vcpu'], /CLASS=AMOUNT/],
    [['=8'], /CLASS=AMOUNT/],
    [['cpu=8'], /not a resource class/],
    [['vcpu=8', 'vcpu=4'], /given twice/],
    [['vcpu=8GiB'], /plain count/],
    [['memory=lots'], /memory=lots/],
    [['memory=-1GiB'], /negative/],
  ])('refuses %j as a usage error', (pairs, reason) => {
    expect(() => parseResourceArgs(pairs)).toThrow(UsageError);
    expect(() => parseResourceArgs(pairs)).toThrow(reason);
  });
});
