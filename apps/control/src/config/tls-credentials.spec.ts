import { certificateWarning } from './tls-credentials';

const DAY = 86_400_000;

describe(certificateWarning.name, () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it('says nothing while the certificate is good for more than two weeks', () => {
    expect(certificateWarning(new Date(now.getTime() + 15 * DAY), now)).toBeNull();
  });

  it('warns within two weeks of expiry, with the date and the days left', () => {
    expect(certificateWarning(new Date(now.getTime() + 3 * DAY), now)).toEqual({
      level: 'warn',
      message: 'the TLS certificate (tlsCertFile) expires at 2026-11-26T12:00:00.000Z, in 3 day(s): renew it',
    });
  });

  it('is an error once expired: clients refuse the certificate', () => {
    expect(certificateWarning(new Date(now.getTime() - DAY), now)).toMatchObject({ level: 'error', message: expect.stringMatching(/expired at 2026-11-22/) });
  });
});
