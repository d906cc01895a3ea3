export const CLOCK = Symbol('CLOCK');

/** The time source of use cases and the scheduler; tests replace it with a fake clock. */
export interface Clock {
  now(): Date;
}

export const SYSTEM_CLOCK: Clock = { now: () => new Date() };
