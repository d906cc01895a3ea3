export const LEADER_ELECTION = Symbol('LEADER_ELECTION');

/** Tells whether this instance may launch runs right now. Only the leader launches. */
export interface LeaderElection {
  isLeader(): boolean;
}
