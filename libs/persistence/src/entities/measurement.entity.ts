import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis, jsonText } from '../transformers';

const bytes = { type: 'bigint' as const, transformer: bigintNumber };
const optionalBytes = { ...bytes, nullable: true };

/** The latest report of each host, as measured by its agent. */
@Entity('host_measurements')
export class HostMeasurementEntity {
  @PrimaryColumn({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  seq: number;

  @Column({ name: 'collected_at', type: 'bigint', transformer: epochMillis })
  collectedAt: Date;

  @Column({ name: 'received_at', type: 'bigint', transformer: epochMillis })
  receivedAt: Date;

  /** The report itself (schema of @dcm/protocol), kept whole so that the API and metrics read one row. */
  @Column({ name: 'report', type: 'text', transformer: jsonText<unknown>(null) })
  report: unknown;

  /** What /metrics needs of the report (JSON text, written by ingest); null for rows stored before it existed. */
  @Column({ type: 'text', nullable: true })
  digest: string | null;
}

/** One-minute samples of a host, for history, forecasts, showback and idle reports. */
@Entity('host_samples')
export class HostSampleEntity {
  @PrimaryColumn({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  /** Start of the minute (or of the hour, once downsampled), epoch milliseconds. */
  @PrimaryColumn({ name: 'bucket', type: 'bigint', transformer: epochMillis })
  bucket: Date;

  @Column({ name: 'cpu_usage_ratio', type: 'double precision' })
  cpuUsageRatio: number;

  @Column({ name: 'load1', type: 'double precision' })
  load1: number;

  @Column({ name: 'memory_total', ...bytes })
  memoryTotal: number;

  @Column({ name: 'memory_available', ...bytes })
  memoryAvailable: number;

  @Column({ name: 'storage_size', ...bytes })
  storageSize: number;

  @Column({ name: 'storage_used', ...bytes })
  storageUsed: number;
}

/** One-minute samples of a tenant's measured use on one host. */
@Entity('tenant_samples')
export class TenantSampleEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 36 })
  tenantId: string;

  @PrimaryColumn({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  @PrimaryColumn({ name: 'bucket', type: 'bigint', transformer: epochMillis })
  bucket: Date;

  @Column({ name: 'storage_used', ...optionalBytes })
  storageUsed: number | null;

  @Column({ name: 'memory_bytes', ...optionalBytes })
  memoryBytes: number | null;

  @Column({ name: 'cpu_seconds_total', type: 'double precision', nullable: true })
  cpuSecondsTotal: number | null;
}
