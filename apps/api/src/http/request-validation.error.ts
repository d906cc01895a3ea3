/** A request that does not fit its contract; every message names the field it is about. */
export class RequestValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'RequestValidationError';
  }
}
