import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { JobsService } from './application/jobs.service';
import { JOB_REPOSITORY } from './application/ports/job-repository.port';
import { TASK_HISTORY } from './application/ports/task-history.port';
import { openJobStore, type JobStore, type JobStoreOptions } from './infrastructure/job-store';

const JOB_STORE = Symbol('JOB_STORE');

class JobStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(JOB_STORE) private readonly store: JobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** Jobs and their task history, on the store the options choose (Redis or the embedded store). */
@Module({})
export class JobsModule {
  static forRoot(options: JobStoreOptions): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [
        { provide: JOB_STORE, useFactory: () => openJobStore(options) },
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
        JobStoreCloser,
        JobsService,
      ],
      exports: [JobsService, JOB_REPOSITORY, TASK_HISTORY],
    };
  }
}
