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
