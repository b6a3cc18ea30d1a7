import type { INestApplication } from '@nestjs/common';
import { Clock } from '../../apps/control/src/common/clock';

/**
 * The e2e suites' one way to set control's clock: every Clock.now() of the app answers `at` from now on (a function is
 * asked at each read, for a suite that moves its own `now`). Setting it again replaces the answer.
 */
export function setControlClock(app: Pick<INestApplication, 'get'>, at: Date | number | (() => Date | number)): void {
  const clock = app.get(Clock);
  const read = typeof at === 'function' ? at : () => at;
  jest.spyOn(clock, 'now').mockImplementation(() => new Date(read()));
}
