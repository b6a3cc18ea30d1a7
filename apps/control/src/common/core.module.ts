import { DynamicModule, Global, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SqliteCheckpointer, UnitOfWork } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { CONTROL_CONFIG, ControlConfig } from '../config/control-config';
import { Clock } from './clock';

/** Runs SQLite's checkpoints off the event loop while the application runs (see SqliteCheckpointer). */
@Injectable()
export class DatabaseCheckpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly checkpointer: SqliteCheckpointer;

  constructor(dataSource: DataSource) {
    this.checkpointer = new SqliteCheckpointer(dataSource);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.checkpointer.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.checkpointer.stop();
  }
}

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
        DatabaseCheckpoints,
      ],
      exports: [CONTROL_CONFIG, Clock, UnitOfWork],
    };
  }
}
