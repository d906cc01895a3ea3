/**
 * Thrown by an action to fail its run with this message and a machine-readable reason (any other
 * error fails it too, with reason `ACTION_FAILED`).
 */
export class ActionFailure extends Error {
  constructor(
    message: string,
    readonly reason: string = ACTION_FAILED,
  ) {
    super(message);
    this.name = 'ActionFailure';
  }
}

export const ACTION_FAILED = 'ACTION_FAILED';
