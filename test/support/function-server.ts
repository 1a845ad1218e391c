import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";

export interface FunctionServer {
  /** The function's root URL, on a free loopback port. */
  url: string;
  close(): Promise<void>;
}

/** Serves a registered function with the Functions Framework's own server, as it is served deployed. */
export async function serveFunction(target: string): Promise<FunctionServer> {
  const server = getTestServer(target);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
