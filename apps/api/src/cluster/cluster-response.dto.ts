export class ResourcesResponseDto {
  CPUs!: number;
  /** MB. */
  Mem!: number;
  /** MB. */
  Disk!: number;
}

export class AgentResponseDto {
  ID!: string;
  Hostname!: string;
  /** Where the agent's API (and task sandboxes) are served. */
  URL!: string;
  Active!: boolean;
  Resources!: ResourcesResponseDto;
  Allocated!: ResourcesResponseDto;
}

export class FrameworkResponseDto {
  /** The framework ID Rhythm registered with (kept in the store across restarts). */
  ID!: string;
  /** Whether this instance holds the subscription (only the leader does). */
  Subscribed!: boolean;
}

export class ClusterResponseDto {
  /** The configured master URLs. */
  Masters!: string[];
  /** `host:port` of the leading master. */
  Leader!: string;
  Healthy!: boolean;
  /** @example '1.11.0' */
  Version!: string;
  Framework!: FrameworkResponseDto;
  Agents!: AgentResponseDto[];
}
