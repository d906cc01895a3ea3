import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { AwsActionOptionsDto } from './aws-action-options.dto';

export const ECS_LAUNCH_TYPES = ['FARGATE', 'EC2'] as const;
export type EcsLaunchType = (typeof ECS_LAUNCH_TYPES)[number];
const ASSIGN_PUBLIC_IP = ['ENABLED', 'DISABLED'] as const;

/** The VPC settings of tasks using the `awsvpc` network mode (all Fargate tasks). */
export class AwsVpcConfigurationDto {
  /** @example ["subnet-0123456789abcdef0"] */
  @IsDefined({ message: 'is required' })
  @IsArray({ message: 'must be a list of subnet ids' })
  @ArrayNotEmpty({ message: 'must not be empty' })
  @ArrayMaxSize(16, { message: 'must list at most 16 subnets' })
  @IsString({ each: true, message: 'must be subnet ids' })
  subnets!: string[];

  /** Default: the VPC's default security group. @example ["sg-0123456789abcdef0"] */
  @IsOptional()
  @IsArray({ message: 'must be a list of security group ids' })
  @ArrayMaxSize(5, { message: 'must list at most 5 security groups' })
  @IsString({ each: true, message: 'must be security group ids' })
  securityGroups?: string[];

  /** Default: DISABLED. */
  @IsOptional()
  @IsIn(ASSIGN_PUBLIC_IP, { message: 'must be one of ENABLED, DISABLED' })
  @ApiPropertyOptional({ enum: ASSIGN_PUBLIC_IP, enumName: 'AwsAssignPublicIp' })
  assignPublicIp?: 'ENABLED' | 'DISABLED';
}

/** As ECS RunTask takes it; keys are case-sensitive. */
export class AwsNetworkConfigurationDto {
  @IsDefined({ message: 'is required' })
  @ValidateNested()
  @Type(() => AwsVpcConfigurationDto)
  awsvpcConfiguration!: AwsVpcConfigurationDto;
}

/** `aws-ecs-task`: runs tasks from an ECS task definition, then waits until they have started. */
export class AwsEcsTaskOptionsDto extends AwsActionOptionsDto {
  /** The cluster's name or ARN. @example "prod" */
  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  cluster!: string;

  /** `family`, `family:revision` or the task definition's ARN. @example "nightly-report" */
  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  taskDefinition!: string;

  /** How many tasks to run. Default 1. */
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  @Max(10, { message: 'must be at most 10' })
  @ApiProperty({ type: 'integer', required: false, minimum: 1, maximum: 10, default: 1 })
  count?: number | null;

  /** Default: the cluster's default capacity provider strategy. */
  @IsOptional()
  @IsIn(ECS_LAUNCH_TYPES, { message: 'must be one of FARGATE, EC2' })
  @ApiPropertyOptional({ enum: ECS_LAUNCH_TYPES, enumName: 'AwsEcsLaunchType' })
  launchType?: EcsLaunchType | null;

  /** Required for task definitions using the `awsvpc` network mode (all Fargate tasks). */
  @IsOptional()
  @ValidateNested()
  @Type(() => AwsNetworkConfigurationDto)
  networkConfiguration?: AwsNetworkConfigurationDto | null;
}
