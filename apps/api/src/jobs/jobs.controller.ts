import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AccessService, type Credentials } from '@rhythm/authz';
import { JobsService, type Job } from '@rhythm/jobs';
import { SchedulerService, TaskLogsService } from '@rhythm/scheduling';
import type { Response } from 'express';
import { Access, Caller } from '../auth/access.decorator';
import { ApiErrors } from '../http/api-responses.decorator';
import { CreateJobDto } from './dto/create-job.dto';
import {
  PauseJobDto,
  ScheduleQueryDto,
  TaskLogQueryDto,
  TaskPageQueryDto,
} from './dto/job-actions.dto';
import { GroupPathDto, JobPathDto, ProjectPathDto, TaskPathDto } from './dto/job-path.dto';
import {
  JobResponseDto,
  UpcomingScheduleResponseDto,
  TaskLogResponseDto,
  TaskResponseDto,
} from './dto/job-response.dto';
import { UpdateJobDto } from './dto/update-job.dto';
import { presentJob, presentSchedule, presentTask, presentTaskLog } from './job.presenter';
import { jobListBody } from './job-list.stream';
import { toJobPatch, toJobSpec } from './job-request.mapper';
import { JobRunnerValidator } from './job-runner.validator';

@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly logs: TaskLogsService,
    private readonly access: AccessService,
    private readonly runners: JobRunnerValidator,
    private readonly scheduler: SchedulerService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List all jobs' })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors()
  @Access({ on: 'caller' })
  async listAll(@Caller() caller: Credentials): Promise<StreamableFile> {
    return jobListBody(await this.readable(caller, await this.jobs.list({})));
  }

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Create a job' })
  @ApiNoContentResponse({ description: 'Created' })
  @ApiErrors(400, 409, 413)
  @Access({ on: 'caller' })
  async create(@Body() dto: CreateJobDto, @Caller() caller: Credentials): Promise<void> {
    await this.access.require(caller, dto, 'readwrite');
    await this.jobs.create(
      { group: dto.group, project: dto.project, id: dto.id },
      toJobSpec(dto, this.runners.toJobRunner(dto.runner)),
    );
  }

  @Get(':group')
  @ApiOperation({ summary: "List a group's jobs" })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors(400)
  @Access({ on: 'caller' })
  async listGroup(
    @Param() path: GroupPathDto,
    @Caller() caller: Credentials,
  ): Promise<StreamableFile> {
    return jobListBody(await this.readable(caller, await this.jobs.list({ group: path.group })));
  }

  @Get(':group/:project')
  @ApiOperation({ summary: "List a project's jobs" })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors(400)
  @Access({ on: 'path', level: 'readonly' })
  async listProject(@Param() path: ProjectPathDto): Promise<StreamableFile> {
    return jobListBody(await this.jobs.list({ group: path.group, project: path.project }));
  }

  @Get(':group/:project/:id')
  @ApiOperation({ summary: 'Read a job' })
  @ApiOkResponse({ type: JobResponseDto })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readonly' })
  async get(@Param() path: JobPathDto): Promise<JobResponseDto> {
    return presentJob(await this.jobs.get(path));
  }

  @Put(':group/:project/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Modify a job', description: 'Absent or null fields stay unchanged.' })
  @ApiNoContentResponse({ description: 'Modified' })
  @ApiErrors(400, 404, 413)
  @Access({ on: 'path', level: 'readwrite' })
  async update(@Param() path: JobPathDto, @Body() dto: UpdateJobDto): Promise<void> {
    await this.jobs.update(path, toJobPatch(dto, this.runners.toJobRunner(dto.runner)));
  }

  @Delete(':group/:project/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a job with its task history' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readwrite' })
  async delete(@Param() path: JobPathDto): Promise<void> {
    await this.jobs.delete(path);
  }

  @Post(':group/:project/:id/run')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Queue a job for an immediate run',
    description: 'A job that is queued already stays queued once.',
  })
  @ApiNoContentResponse({ description: 'Queued' })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readwrite' })
  async run(@Param() path: JobPathDto): Promise<void> {
    await this.jobs.requestRun(path);
  }

  @Post(':group/:project/:id/pause')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Pause a job',
    description: 'A paused job starts no run (one in flight continues) until resumed or `until`.',
  })
  @ApiNoContentResponse({ description: 'Paused' })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readwrite' })
  async pause(@Param() path: JobPathDto, @Body() dto: PauseJobDto): Promise<void> {
    await this.jobs.pause(path, dto.until ?? null);
  }

  @Post(':group/:project/:id/resume')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Resume a paused job',
    description: 'Occurrences that fell in the pause are not run; the cron continues from now.',
  })
  @ApiNoContentResponse({ description: 'Resumed' })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readwrite' })
  async resume(@Param() path: JobPathDto): Promise<void> {
    await this.jobs.resume(path);
  }

  @Get(':group/:project/:id/tasks')
  @ApiOperation({
    summary: "List a job's runs, oldest first",
    description: 'All kept records by default; `limit` alone gives the most recent ones.',
  })
  @ApiOkResponse({ type: [TaskResponseDto] })
  @ApiHeader({ name: 'X-Total-Count', description: 'Records kept for the job', required: false })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readonly' })
  async tasks(
    @Param() path: JobPathDto,
    @Query() query: TaskPageQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TaskResponseDto[]> {
    const { tasks, total } = await this.jobs.listTasks(path, query.limit, query.offset);
    response.setHeader('X-Total-Count', String(total));
    return tasks.map(presentTask);
  }

  @Get(':group/:project/:id/schedule')
  @ApiOperation({
    summary: "A job's next cron occurrences",
    description:
      "Strictly after `from` (default: now), in UTC and as local time in the job's time zone, " +
      'whose offset shows daylight saving changes. Pauses and queued runs do not enter into it.',
  })
  @ApiOkResponse({ type: UpcomingScheduleResponseDto })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readonly' })
  async schedule(
    @Param() path: JobPathDto,
    @Query() query: ScheduleQueryDto,
  ): Promise<UpcomingScheduleResponseDto> {
    const upcoming = await this.jobs.upcoming(path, query.count ?? 10, query.from);
    return presentSchedule(upcoming.job, upcoming.timezone, upcoming.times);
  }

  @Post(':group/:project/:id/tasks/:taskId/kill')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Kill a running run',
    description:
      'The run ends as Killed with the message `killed on request`; it is not retried. Any ' +
      'instance takes the request and the leader kills the task. 409 when the task is not the ' +
      "job's current run.",
  })
  @ApiNoContentResponse({ description: 'Kill requested' })
  @ApiErrors(400, 404, 409)
  @Access({ on: 'path', level: 'readwrite' })
  async killTask(@Param() path: TaskPathDto): Promise<void> {
    const jobId = { group: path.group, project: path.project, id: path.id };
    await this.jobs.requestKill(jobId, path.taskId);
    this.scheduler.poke();
  }

  @Get(':group/:project/:id/tasks/:taskId/logs')
  @ApiOperation({
    summary: 'Read the kept output of a run',
    description: 'The last 64 KiB of each stream are kept.',
  })
  @ApiOkResponse({ type: TaskLogResponseDto })
  @ApiErrors(400, 404)
  @Access({ on: 'path', level: 'readonly' })
  async taskLogs(
    @Param() path: TaskPathDto,
    @Query() query: TaskLogQueryDto,
  ): Promise<TaskLogResponseDto> {
    const stream = query.stream ?? 'stdout';
    const jobId = { group: path.group, project: path.project, id: path.id };
    const log = await this.logs.read(jobId, path.taskId, stream, {
      offset: query.offset,
      length: query.length,
    });
    return presentTaskLog(stream, log);
  }

  private readable(caller: Credentials, jobs: readonly Job[]): Promise<Job[]> {
    return this.access.readable(caller, jobs, (job) => job.jobId);
  }
}
