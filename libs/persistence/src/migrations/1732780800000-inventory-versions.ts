import { MigrationInterface, QueryRunner } from 'typeorm';

const EVENTS = ['INSERT', 'UPDATE', 'DELETE'] as const;

/**
 * `hosts.inventory_version` counts the changes to the host's inventories, kept by the database itself (triggers on
 * `inventories`), whichever code path writes them: /metrics reads and formats a host's inventories again only when
 * the count moved, rather than folding every inventory row of the facility on every scrape.
 */
export class InventoryVersions1732780800000 implements MigrationInterface {
  name = 'InventoryVersions1732780800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE hosts ADD COLUMN inventory_version bigint NOT NULL DEFAULT 0');
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(`CREATE FUNCTION count_inventory_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE hosts SET inventory_version = inventory_version + 1
           WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.host_id ELSE NEW.host_id END;
          IF TG_OP = 'UPDATE' AND OLD.host_id <> NEW.host_id THEN
            UPDATE hosts SET inventory_version = inventory_version + 1 WHERE id = OLD.host_id;
          END IF;
          RETURN NULL;
        END $$`);
      await queryRunner.query(
        'CREATE TRIGGER inventories_count_change AFTER INSERT OR UPDATE OR DELETE ON inventories FOR EACH ROW EXECUTE FUNCTION count_inventory_change()',
      );
      return;
    }
    for (const event of EVENTS) {
      const hosts = event === 'INSERT' ? ['NEW'] : event === 'DELETE' ? ['OLD'] : ['NEW', 'OLD'];
      await queryRunner.query(`CREATE TRIGGER inventories_count_${event.toLowerCase()} AFTER ${event} ON inventories BEGIN
        UPDATE hosts SET inventory_version = inventory_version + 1 WHERE id IN (${hosts.map((row) => `${row}.host_id`).join(', ')});
      END`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query('DROP TRIGGER inventories_count_change ON inventories');
      await queryRunner.query('DROP FUNCTION count_inventory_change()');
    } else {
      for (const event of EVENTS) await queryRunner.query(`DROP TRIGGER inventories_count_${event.toLowerCase()}`);
    }
    await queryRunner.query('ALTER TABLE hosts DROP COLUMN inventory_version');
  }
}
