import { ExecutionContext } from '@nestjs/common';
import { ProblemException } from '../common/problem';
import { controlConfig } from '../config/control-config';
import { MetricsTokenGuard } from './metrics-token.guard';

const TOKEN = 'a-metrics-token-of-some-length';
const scrapeWith = (authorization?: string) =>
  ({ switchToHttp: () => ({ getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }) }) }) as unknown as ExecutionContext;

describe(MetricsTokenGuard.name, () => {
  it('lets every scrape through when no metrics token is set', () => {
    const sut = new MetricsTokenGuard(controlConfig({}));
    expect(sut.canActivate(scrapeWith())).toBe(true);
  });

  it('wants the metrics token as a bearer token when one is set', () => {
    const sut = new MetricsTokenGuard(controlConfig({ metricsToken: TOKEN }));
    expect(sut.canActivate(scrapeWith(`Bearer ${TOKEN}`))).toBe(true);
    expect(sut.canActivate(scrapeWith(`bearer ${TOKEN}`))).toBe(true);
    for (const header of [undefined, '', TOKEN, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`]) {
      expect(() => sut.canActivate(scrapeWith(header))).toThrow(ProblemException);
    }
  });

  it('refuses a metrics token shorter than 16 characters at start', () => {
    expect(() => controlConfig({ metricsToken: 'short' })).toThrow(/DCM_METRICS_TOKEN \(metricsToken\): must be at least 16 characters/);
  });
});
