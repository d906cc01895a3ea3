import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessService, type Credentials } from '@rhythm/authz';
import { JobsService } from '@rhythm/jobs';
import { Access, Caller } from '../auth/access.decorator';
import { ApiErrors } from '../http/api-responses.decorator';
import { PendingRunResponseDto } from './dto/job-response.dto';
import { presentPendingRun } from './job.presenter';

@ApiTags('jobs')
@Controller('api/v1/queue')
export class QueueController {
  constructor(
    private readonly jobs: JobsService,
    private readonly access: AccessService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List runs waiting to start',
    description:
      'Run-now requests, retries, catch-up runs and due cron occurrences, soonest first.',
  })
  @ApiOkResponse({ type: [PendingRunResponseDto] })
  @ApiErrors()
  @Access({ on: 'caller' })
  async list(@Caller() caller: Credentials): Promise<PendingRunResponseDto[]> {
    const pending = await this.access.readable(
      caller,
      await this.jobs.pendingRuns(),
      (run) => run.jobId,
    );
    return pending.map(presentPendingRun);
  }
}
