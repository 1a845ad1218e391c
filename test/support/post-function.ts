import type { getTestServer } from "@google-cloud/functions-framework/testing";
import { expect } from "vitest";

/** POSTs to a function's test server on a free port and returns its JSON answer, which must be a 200. */
export async function postForJson(server: ReturnType<typeof getTestServer>, path = "/"): Promise<unknown> {
  const listening = server.listen(0);
  await new Promise((resolve) => listening.once("listening", resolve));
  try {
    const address = listening.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST" });
    expect(res.status).toBe(200);
    return await res.json();
  } finally {
    await new Promise((resolve) => listening.close(resolve));
  }
}
