import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { HasContainerImage } from './container.validator';
import { MesosImageDto, MissedRunsDto, RetryBackoffDto, ScheduleDto } from './create-job.dto';
import {
  NonNegativeInteger,
  NonNegativeNumber,
  OptionalBoolean,
  OptionalString,
  OptionalStringList,
  OptionalStringMap,
  PositiveNumber,
} from './job-field.decorators';

export class DockerImageUpdateDto {
  /** Required when switching a Mesos job to Docker. */
  @IsOptional()
  @IsString({ message: 'Must be a string' })
  @MinLength(1, { message: 'Must not be empty' })
  image?: string | null;

  @IsOptional()
  @IsBoolean({ message: 'Must be a boolean' })
  forcepullimage?: boolean | null;
}

export class ContainerUpdateDto {
  /** Wins over `mesos` when both are given. */
  @IsOptional()
  @ValidateNested()
  @Type(() => DockerImageUpdateDto)
  docker?: DockerImageUpdateDto | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => MesosImageDto)
  mesos?: MesosImageDto | null;
}

/**
 * A partial update: absent or null fields stay as they are; `env`, `secrets`, `labels` and
 * `arguments` are replaced whole. Group, project and id cannot change (a job cannot be renamed).
 */
export class UpdateJobDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;

  @OptionalStringMap()
  env?: Record<string, string> | null;

  @OptionalStringMap()
  secrets?: Record<string, string> | null;

  @IsOptional()
  @HasContainerImage('at-least-one')
  @ValidateNested()
  @Type(() => ContainerUpdateDto)
  container?: ContainerUpdateDto | null;

  @PositiveNumber({ required: false })
  cpus?: number | null;

  /** Memory in MB. */
  @PositiveNumber({ required: false })
  mem?: number | null;

  /** Disk in MB. */
  @NonNegativeNumber({ required: false })
  disk?: number | null;

  @OptionalString()
  cmd?: string | null;

  @OptionalString()
  user?: string | null;

  @OptionalBoolean()
  shell?: boolean | null;

  @OptionalStringList()
  arguments?: string[] | null;

  @OptionalStringMap()
  labels?: Record<string, string> | null;

  @NonNegativeInteger({ required: false })
  maxretries?: number | null;

  /** Replaced whole. */
  @IsOptional()
  @ValidateNested()
  @Type(() => MissedRunsDto)
  missedruns?: MissedRunsDto | null;

  /** Replaced whole. */
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryBackoffDto)
  retrybackoff?: RetryBackoffDto | null;

  /** Seconds. */
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  timeout?: number | null;
}
