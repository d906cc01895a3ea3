import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { JobsService } from './application/jobs.service';
import { CLOCK, SYSTEM_CLOCK } from './application/ports/clock.port';
import { JOB_REPOSITORY } from './application/ports/job-repository.port';
import { SCHEDULER_STATE } from './application/ports/scheduler-state.port';
import { TASK_HISTORY } from './application/ports/task-history.port';
import { openJobStore, type JobStore } from './infrastructure/job-store';
import { JOBS_SETTINGS, type JobsSettings } from './jobs.settings';

const JOB_STORE = Symbol('JOB_STORE');

class JobStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(JOB_STORE) private readonly store: JobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Jobs and their task history, on the store the settings choose (Redis or the embedded store). */
@Module({})
export class JobsModule {
  static forRoot(settings: JobsSettings): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [
        { provide: JOBS_SETTINGS, useValue: settings },
        { provide: CLOCK, useValue: SYSTEM_CLOCK },
        { provide: JOB_STORE, useFactory: () => openJobStore(settings.store, settings.retention) },
        {
          provide: JOB_REPOSITORY,
          useFactory: (store: JobStore) => store.jobs,
          inject: [JOB_STORE],
        },
        {
          provide: TASK_HISTORY,
          useFactory: (store: JobStore) => store.tasks,
          inject: [JOB_STORE],
        },
        {
          provide: SCHEDULER_STATE,
          useFactory: (store: JobStore) => store.state,
          inject: [JOB_STORE],
        },
        JobStoreCloser,
        JobsService,
      ],
      exports: [JobsService, JOBS_SETTINGS, CLOCK, JOB_REPOSITORY, TASK_HISTORY, SCHEDULER_STATE],
    };
  }
}
