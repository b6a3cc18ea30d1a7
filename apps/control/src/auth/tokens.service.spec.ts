import { asDependency, fakeAuditLog, fakeClock, fakeTenantsRepository, fakeTokensRepository, fakeTokenUsage, fakeUnitOfWork } from '../testing/fakes';
import { TokensService } from './tokens.service';

const NOW = new Date('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

describe(TokensService.name, () => {
  let repository: ReturnType<typeof fakeTokensRepository>;
  let clock: ReturnType<typeof fakeClock>;
  let sut: TokensService;

  beforeEach(() => {
    repository = fakeTokensRepository();
    clock = fakeClock(NOW);
    sut = new TokensService(
      asDependency(repository),
      asDependency(fakeTenantsRepository()),
      asDependency(fakeUnitOfWork()),
      asDependency(clock),
      asDependency(fakeAuditLog()),
      asDependency(fakeTokenUsage()),
      asDependency({}),
    );
  });

  it('authenticates an API token it issued, as its role', async () => {
    const issued = await sut.issue({ kind: 'api', role: 'viewer' }, 'token:admin');
    await expect(sut.authenticate(issued.token)).resolves.toMatchObject({ tokenId: issued.id, kind: 'api', role: 'viewer', tenantId: null });
    await expect(sut.authenticate('not-a-token')).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  it('refuses a revoked token at once, though it was cached, and for good', async () => {
    const issued = await sut.issue({ kind: 'api', role: 'operator' }, 'token:admin');
    await sut.authenticate(issued.token);
    await expect(sut.revoke(issued.id, 'token:admin')).resolves.toMatchObject({ id: issued.id, revokedAt: NOW.toISOString() });
    await expect(sut.authenticate(issued.token)).rejects.toMatchObject({ code: 'Unauthenticated', message: expect.stringContaining('revoked') });
    clock.now.mockReturnValue(new Date(NOW.getTime() + DAY));
    await expect(sut.authenticate(issued.token)).rejects.toMatchObject({ code: 'Unauthenticated' });
    expect(repository.countRevocation).toHaveBeenCalledTimes(1);
  });

  it('refuses a token past its expiry', async () => {
    const issued = await sut.issue({ kind: 'api', role: 'viewer', expiresAt: new Date(NOW.getTime() + 60_000) }, 'token:admin');
    clock.now.mockReturnValue(new Date(NOW.getTime() + 60_000));
    await expect(sut.authenticate(issued.token)).rejects.toMatchObject({ code: 'Unauthenticated', message: expect.stringContaining('expired') });
  });

  it('gives a join token 30 days at most, one use by default, no role, and no API access', async () => {
    const join = await sut.issue({ kind: 'join' }, 'token:admin');
    expect(join).toMatchObject({ kind: 'join', role: null, usesLeft: 1, expiresAt: new Date(NOW.getTime() + 30 * DAY).toISOString() });
    await expect(sut.authenticate(join.token)).rejects.toMatchObject({ code: 'Unauthenticated' });
    await expect(sut.issue({ kind: 'join', expiresAt: new Date(NOW.getTime() + 31 * DAY) }, 'token:admin')).rejects.toMatchObject({
      code: 'ValidationFailed',
    });
    await expect(sut.issue({ kind: 'join', role: 'admin' }, 'token:admin')).rejects.toMatchObject({ code: 'ValidationFailed' });
  });

  it('binds only tenant-role tokens to a tenant, and only to one that exists', async () => {
    await expect(sut.issue({ kind: 'api', role: 'viewer', tenant: 'torfaen' }, 'token:admin')).rejects.toMatchObject({ code: 'ValidationFailed' });
    await expect(sut.issue({ kind: 'api', role: 'tenant', tenant: 'torfaen' }, 'token:admin')).rejects.toMatchObject({ code: 'ValidationFailed' });
  });
});
