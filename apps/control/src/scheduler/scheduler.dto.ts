import { ApiProperty } from '@nestjs/swagger';

export class JobStatusDto {
  @ApiProperty({ example: 'enforcement' }) name: string;
  @ApiProperty({ example: 60 }) intervalSeconds: number;
  @ApiProperty({ description: 'Runs on every replica (keeps something of its own, such as its token cache), not only the leader' }) everyReplica: boolean;
  @ApiProperty() running: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Last run on this replica; null on a follower unless everyReplica' })
  lastRunAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastDurationSeconds: number | null;
  @ApiProperty({ nullable: true, enum: ['ok', 'error'] }) lastOutcome: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
}

export class SchedulerStatusDto {
  @ApiProperty({ example: 'blv-ctl-1/4242', description: 'This replica: host name / process id' }) replica: string;
  @ApiProperty({ description: 'Whether this replica runs the scheduler jobs' }) leading: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'blv-ctl-1/4242', description: 'The replica that runs them; null while none does' })
  leader: string | null;
  @ApiProperty({ type: [JobStatusDto] }) jobs: JobStatusDto[];
}
