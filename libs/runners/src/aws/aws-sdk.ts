import type * as Ec2 from '@aws-sdk/client-ec2';
import type * as Ecs from '@aws-sdk/client-ecs';
import type * as Rds from '@aws-sdk/client-rds';
import type * as Sts from '@aws-sdk/client-sts';

/**
 * The SDK's service packages, each loaded on its first use. Loading them costs 70-80 MB of resident
 * memory (mostly their code), which a Rhythm that never runs an AWS action should not carry: the
 * API's memory goal is 250 MB.
 */
export type Ec2Sdk = typeof Ec2;
export type EcsSdk = typeof Ecs;
export type RdsSdk = typeof Rds;
export type StsSdk = typeof Sts;

let ec2: Promise<Ec2Sdk> | null = null;
let ecs: Promise<EcsSdk> | null = null;
let rds: Promise<RdsSdk> | null = null;
let sts: Promise<StsSdk> | null = null;

export function loadEc2Sdk(): Promise<Ec2Sdk> {
  return (ec2 ??= import('@aws-sdk/client-ec2'));
}

export function loadEcsSdk(): Promise<EcsSdk> {
  return (ecs ??= import('@aws-sdk/client-ecs'));
}

export function loadRdsSdk(): Promise<RdsSdk> {
  return (rds ??= import('@aws-sdk/client-rds'));
}

export function loadStsSdk(): Promise<StsSdk> {
  return (sts ??= import('@aws-sdk/client-sts'));
}
