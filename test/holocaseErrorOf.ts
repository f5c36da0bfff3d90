/** The `HolocaseError` a promise rejects with; anything else (a result, another error) fails the test. */
import { isHolocaseError, type HolocaseError } from '../server/errors.ts';

export async function holocaseErrorOf(promise: Promise<unknown>): Promise<HolocaseError> {
  try {
    await promise;
  } catch (error) {
    if (isHolocaseError(error)) return error;
    throw error;
  }
  throw new Error('expected a HolocaseError, got a result');
}
