export { CronExpression, InvalidCronExpressionError } from './domain/cron-expression';
export { LEADER_ELECTION, type LeaderElection } from './application/ports/leader-election.port';
export { SoleInstanceLeaderElection } from './infrastructure/sole-instance-leader-election';
