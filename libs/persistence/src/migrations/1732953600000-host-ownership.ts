import { MigrationInterface, QueryRunner } from 'typeorm';

/** A join token's life when it was issued without one (DESIGN: at most 30 days). */
const JOIN_TOKEN_LIFETIME_MS = 30 * 86_400_000;

/**
 * Who owns a host's inventory, and whether it may be placed on:
 * - `hosts.origin`: `operator` (registered through the API or a facility file, or an operator has set an inventory) or
 *   `agent` (created by an enrolment and never sized by an operator since); existing hosts are classified from the
 *   audit log;
 * - `hosts.accepted`: an enrolled host is placeable only once an operator accepts it; hosts that exist already were
 *   placeable and stay so;
 * - `inventories.measured_total`: what the host's agent last measured, beside the total that counts;
 * - `tokens.host_name`, `tokens.accept`: a join token that re-enrols one named host, or enrols a host accepted at once.
 * Join tokens issued without an expiry get one, 30 days from now.
 */
export class HostOwnership1732953600000 implements MigrationInterface {
  name = 'HostOwnership1732953600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE hosts ADD COLUMN origin varchar(16) NOT NULL DEFAULT 'operator'`);
    await queryRunner.query('ALTER TABLE hosts ADD COLUMN accepted boolean NOT NULL DEFAULT true');
    await queryRunner.query('ALTER TABLE inventories ADD COLUMN measured_total bigint');
    await queryRunner.query('ALTER TABLE tokens ADD COLUMN host_name varchar(63)');
    await queryRunner.query('ALTER TABLE tokens ADD COLUMN accept boolean NOT NULL DEFAULT false');
    // An enrolled host no operator has registered or sized since it was created belongs to its agent.
    await queryRunner.query(`UPDATE hosts SET origin = 'agent'
      WHERE agent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM audit_events e
         WHERE e.subject_type = 'host' AND e.subject = hosts.name AND e.at >= hosts.created_at
           AND e.action IN ('host.create', 'inventory.set'))`);
    // Until now an agent's totals replaced the inventory's: on an agent's host the total is what was measured.
    await queryRunner.query(`UPDATE inventories SET measured_total = total
      WHERE resource_class IN ('vcpu', 'memory', 'storage') AND host_id IN (SELECT id FROM hosts WHERE origin = 'agent')`);
    await queryRunner.query(`UPDATE tokens SET expires_at = ${Date.now() + JOIN_TOKEN_LIFETIME_MS} WHERE kind = 'join' AND expires_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE tokens DROP COLUMN accept');
    await queryRunner.query('ALTER TABLE tokens DROP COLUMN host_name');
    await queryRunner.query('ALTER TABLE inventories DROP COLUMN measured_total');
    await queryRunner.query('ALTER TABLE hosts DROP COLUMN accepted');
    await queryRunner.query('ALTER TABLE hosts DROP COLUMN origin');
  }
}
