import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JobsService } from '@rhythm/jobs';
import { ApiErrors } from '../http/api-responses.decorator';
import { PendingRunResponseDto } from './dto/job-response.dto';
import { presentPendingRun } from './job.presenter';

@ApiTags('jobs')
@Controller('api/v1/queue')
export class QueueController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @ApiOperation({
    summary: 'List runs waiting to start',
    description:
      'Run-now requests, retries, catch-up runs and due cron occurrences, soonest first.',
  })
  @ApiOkResponse({ type: [PendingRunResponseDto] })
  @ApiErrors()
  async list(): Promise<PendingRunResponseDto[]> {
    return (await this.jobs.pendingRuns()).map(presentPendingRun);
  }
}
