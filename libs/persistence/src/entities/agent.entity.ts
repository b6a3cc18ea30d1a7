import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, epochMillis, jsonText } from '../transformers';

/** An enrolled host agent. `lastSeq` is the highest report sequence stored: anything at or below it is a duplicate. */
@Entity('agents')
@Index('agents_host', ['hostId'])
export class AgentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'host_id', type: 'varchar', length: 36 })
  hostId: string;

  @Column({ name: 'token_id', type: 'varchar', length: 36 })
  tokenId: string;

  @Column({ type: 'text', transformer: jsonText<Record<string, unknown>>({}) })
  facts: Record<string, unknown>;

  @Column({ name: 'last_seq', type: 'bigint', default: 0, transformer: bigintNumber })
  lastSeq: number;

  @Column({ name: 'enrolled_at', type: 'bigint', transformer: epochMillis })
  enrolledAt: Date;

  @Column({ name: 'last_report_at', type: 'bigint', nullable: true, transformer: epochMillis })
  lastReportAt: Date | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: epochMillis })
  revokedAt: Date | null;
}
