import type { LeaderElection } from '../application/ports/leader-election.port';

/** For one-process deployments (the embedded store): the only instance always leads. */
export class SoleInstanceLeaderElection implements LeaderElection {
  isLeader(): boolean {
    return true;
  }
}
