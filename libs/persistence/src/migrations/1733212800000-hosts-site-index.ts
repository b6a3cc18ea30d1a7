import { MigrationInterface, QueryRunner } from 'typeorm';

/** Live hosts by site: the hosts list's site filter and its list of sites (the web console's) read this index alone. */
export class HostsSiteIndex1733212800000 implements MigrationInterface {
  name = 'HostsSiteIndex1733212800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE INDEX hosts_site_live ON hosts (site) WHERE decommissioned_at IS NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX hosts_site_live');
  }
}
