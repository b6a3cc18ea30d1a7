import { ApiProperty } from '@nestjs/swagger';

export class JobStatusDto {
  @ApiProperty({ example: 'enforcement' }) name: string;
  @ApiProperty({ example: 60 }) intervalSeconds: number;
  @ApiProperty() running: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Last run on this replica; null on a follower' }) lastRunAt: string | null;
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
