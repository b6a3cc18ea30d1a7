import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ResourceClassEntity } from '@dcm/persistence';
import { AuditModule } from '../audit/audit.module';
import { ResourceClassesController } from './resource-classes.controller';
import { ResourceClassesService } from './resource-classes.service';

@Module({
  imports: [TypeOrmModule.forFeature([ResourceClassEntity]), AuditModule],
  controllers: [ResourceClassesController],
  providers: [ResourceClassesService],
  exports: [ResourceClassesService],
})
export class ResourceClassesModule {}
