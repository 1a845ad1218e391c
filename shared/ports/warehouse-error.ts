import { PortError, type PortErrorCode } from "./port-error.ts";

/**
 * What a caller of a Warehouse branches on:
 * - `unavailable`: transient (I/O, a lock another process holds, out of memory, warehouse closed);
 *   the same call may succeed later, so a function handler throws and the bus redelivers.
 * - `invalid`: permanent for this input (a value the table cannot hold, a bad query argument);
 *   retrying the same call fails the same way.
 */
export type WarehouseErrorCode = PortErrorCode;

export class WarehouseError extends PortError {
  override readonly name = "WarehouseError";

  constructor(message: string, code: WarehouseErrorCode, options?: ErrorOptions) {
    super(code, message, options);
  }
}
