import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  Matches,
} from 'class-validator';
import { AwsActionOptionsDto } from './aws-action-options.dto';

export const EC2_INSTANCE_ACTIONS = ['start', 'stop', 'reboot'] as const;
export type Ec2InstanceAction = (typeof EC2_INSTANCE_ACTIONS)[number];

/** `aws-ec2-instance`: starts, stops or reboots EC2 instances, then waits for their state. */
export class AwsEc2InstanceOptionsDto extends AwsActionOptionsDto {
  /**
   * `start` waits until every instance is running, `stop` until every one is stopped, `reboot`
   * until every one is running again.
   */
  @IsDefined({ message: 'is required' })
  @IsIn(EC2_INSTANCE_ACTIONS, { message: 'must be one of start, stop, reboot' })
  @ApiProperty({ enum: EC2_INSTANCE_ACTIONS, enumName: 'AwsEc2InstanceAction' })
  action!: Ec2InstanceAction;

  /** The instances, acted on in one call. @example ["i-0123456789abcdef0"] */
  @IsDefined({ message: 'is required' })
  @IsArray({ message: 'must be a list of instance ids' })
  @ArrayNotEmpty({ message: 'must not be empty' })
  @ArrayMaxSize(100, { message: 'must list at most 100 instances' })
  @ArrayUnique({ message: 'must not list an instance twice' })
  @Matches(/^i-[0-9a-f]{8,17}$/, {
    each: true,
    message: 'must be instance ids such as i-0123456789abcdef0',
  })
  instanceIds!: string[];
}
