/**
 * What a caller of a Warehouse branches on:
 * - `unavailable`: transient (I/O, a lock another process holds, out of memory, warehouse closed);
 *   the same call may succeed later, so a function handler throws and the bus redelivers.
 * - `invalid`: permanent for this input (a value the table cannot hold, a bad query argument);
 *   retrying the same call fails the same way.
 */
export type WarehouseErrorCode = "unavailable" | "invalid";

export class WarehouseError extends Error {
  override readonly name = "WarehouseError";
  readonly code: WarehouseErrorCode;

  constructor(message: string, code: WarehouseErrorCode, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** True when the same call may succeed later. */
  get retryable(): boolean {
    return this.code === "unavailable";
  }
}
