import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MinLength, ValidateNested } from 'class-validator';
import { HasContainerImage } from './container.validator';
import { JobOptionsDto, MesosImageDto, ScheduleDto } from './create-job.dto';
import { PositiveNumber } from './job-field.decorators';

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
export class UpdateJobDto extends JobOptionsDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => ScheduleDto)
  schedule?: ScheduleDto | null;

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
}
