import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsSafeText, OptionalNotNull } from '../common/validators';
import { IsIn, IsString, MaxLength } from 'class-validator';
import type { ResourceUnit } from '@dcm/domain';

export class DeclareResourceClassDto {
  @ApiProperty({ enum: ['count', 'bytes'], example: 'count' })
  @IsIn(['count', 'bytes'])
  unit: ResourceUnit;

  @ApiPropertyOptional({ example: 'NVIDIA L40S GPUs', maxLength: 200 })
  @OptionalNotNull()
  @IsString()
  @MaxLength(200)
  @IsSafeText()
  description?: string;
}

export class ResourceClassResponseDto {
  @ApiProperty({ example: 'custom_gpu' }) name: string;
  @ApiProperty({ enum: ['count', 'bytes'] }) unit: ResourceUnit;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
}
