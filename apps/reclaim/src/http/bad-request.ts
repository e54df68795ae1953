import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from '@reclaim/domain';

/** A 400 whose body names every bad field: `{ message: ['field: problem', …], errors: [{ field, message }] }`. */
export function invalid(errors: readonly ValidationError[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: errors.map((e) => `${e.field}: ${e.message}`),
    errors,
  });
}
