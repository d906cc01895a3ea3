import { IsDefined, IsString, Matches } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { JobName } from './job-field.decorators';

export class GroupPathDto {
  @JobName()
  group!: string;
}

export class ProjectPathDto extends GroupPathDto {
  @JobName()
  project!: string;
}

export class JobPathDto extends ProjectPathDto {
  @JobName()
  id!: string;
}

const TASK_ID_PATTERN = /^[a-zA-Z0-9-_]+:[a-zA-Z0-9-_]+:[a-zA-Z0-9-_]+:[a-zA-Z0-9-]+$/;

export class TaskPathDto extends JobPathDto {
  /** `group:project:id:<uuid>` */
  @IsDefined({ message: 'Is required' })
  @IsString({ message: 'Must be a string' })
  @Matches(TASK_ID_PATTERN, { message: 'Must be a task id of this job (group:project:id:uuid)' })
  @ApiProperty({ type: 'string', pattern: TASK_ID_PATTERN.source })
  taskId!: string;
}
