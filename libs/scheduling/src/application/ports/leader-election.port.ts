export const LEADER_ELECTION = Symbol('LEADER_ELECTION');

/**
 * One leadership term. The epoch grows with every new term across all instances (a fencing
 * token): store writes made on behalf of a term carry its epoch and are refused once a newer term
 * exists. `signal` aborts the moment this instance stops leading.
 */
export interface LeadershipTerm {
  readonly epoch: number;
  readonly signal: AbortSignal;
}

/** Decides which instance leads; only the leader launches runs. */
export interface LeaderElection {
  /** True while this instance holds a live term; always the truth at the moment of the call. */
  isLeader(): boolean;

  /** The current term, or null when this instance does not lead. */
  currentTerm(): LeadershipTerm | null;

  /** Called with each new term this instance wins, after it is won. */
  onTerm(listener: (term: LeadershipTerm) => void): void;

  /** Starts campaigning; resolves at once (winning happens in the background). */
  start(): Promise<void>;

  /** Stops campaigning and gives up a held term (its signal aborts), so another instance takes over. */
  stop(): Promise<void>;
}
