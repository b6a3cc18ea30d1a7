import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** What /metrics needs of each host's latest report, written beside the whole report by ingest (JSON text). */
export class MeasurementDigest1732608000000 implements MigrationInterface {
  name = 'MeasurementDigest1732608000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('host_measurements', new TableColumn({ name: 'digest', type: 'text', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('host_measurements', 'digest');
  }
}
