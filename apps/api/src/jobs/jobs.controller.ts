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
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JobsService } from '@rhythm/jobs';
import { ApiErrors } from '../http/api-responses.decorator';
import { CreateJobDto } from './dto/create-job.dto';
import { GroupPathDto, JobPathDto, ProjectPathDto } from './dto/job-path.dto';
import { JobResponseDto, TaskResponseDto } from './dto/job-response.dto';
import { UpdateJobDto } from './dto/update-job.dto';
import { presentJob, presentTask } from './job.presenter';
import { toJobPatch, toJobSpec } from './job-request.mapper';

@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @ApiOperation({ summary: 'List all jobs' })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors()
  async listAll(): Promise<JobResponseDto[]> {
    return (await this.jobs.list({})).map(presentJob);
  }

  @Post()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Create a job' })
  @ApiNoContentResponse({ description: 'Created' })
  @ApiErrors(400, 409, 413)
  async create(@Body() dto: CreateJobDto): Promise<void> {
    await this.jobs.create({ group: dto.group, project: dto.project, id: dto.id }, toJobSpec(dto));
  }

  @Get(':group')
  @ApiOperation({ summary: "List a group's jobs" })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors(400)
  async listGroup(@Param() path: GroupPathDto): Promise<JobResponseDto[]> {
    return (await this.jobs.list({ group: path.group })).map(presentJob);
  }

  @Get(':group/:project')
  @ApiOperation({ summary: "List a project's jobs" })
  @ApiOkResponse({ type: [JobResponseDto] })
  @ApiErrors(400)
  async listProject(@Param() path: ProjectPathDto): Promise<JobResponseDto[]> {
    return (await this.jobs.list({ group: path.group, project: path.project })).map(presentJob);
  }

  @Get(':group/:project/:id')
  @ApiOperation({ summary: 'Read a job' })
  @ApiOkResponse({ type: JobResponseDto })
  @ApiErrors(400, 404)
  async get(@Param() path: JobPathDto): Promise<JobResponseDto> {
    return presentJob(await this.jobs.get(path));
  }

  @Put(':group/:project/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Modify a job', description: 'Absent or null fields stay unchanged.' })
  @ApiNoContentResponse({ description: 'Modified' })
  @ApiErrors(400, 404, 413)
  async update(@Param() path: JobPathDto, @Body() dto: UpdateJobDto): Promise<void> {
    await this.jobs.update(path, toJobPatch(dto));
  }

  @Delete(':group/:project/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a job with its task history' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
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
  async run(@Param() path: JobPathDto): Promise<void> {
    await this.jobs.requestRun(path);
  }

  @Get(':group/:project/:id/tasks')
  @ApiOperation({ summary: "List a job's runs, oldest first" })
  @ApiOkResponse({ type: [TaskResponseDto] })
  @ApiErrors(400, 404)
  async tasks(@Param() path: JobPathDto): Promise<TaskResponseDto[]> {
    return (await this.jobs.listTasks(path)).map(presentTask);
  }
}
