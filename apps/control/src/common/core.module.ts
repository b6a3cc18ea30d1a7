import { DynamicModule, Global, Module } from '@nestjs/common';
import { UnitOfWork } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { Clock } from './clock';

/** What every feature needs: the validated configuration, the clock and the unit of work. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: ControlConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: CONTROL_CONFIG, useValue: config },
        Clock,
        { provide: UnitOfWork, inject: [DataSource], useFactory: (dataSource: DataSource) => new UnitOfWork(dataSource) },
      ],
      exports: [CONTROL_CONFIG, Clock, UnitOfWork],
    };
  }
}
