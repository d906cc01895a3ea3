/** Every error answer: the original Rhythm's envelope, always with at least one message. */
export class ErrorResponseDto {
  /** What went wrong; validation errors name each field. */
  Errors!: string[];
}
