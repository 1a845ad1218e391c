import { describe, expect, it } from "vitest";
import { useTestSession } from "../support/local-stack-session.ts";

describe("scheduled functions without their external system configured", () => {
  const session = useTestSession();

  it.each([
    ["collectAllocations", /no allocations source/],
    ["syncTrainingCosts", /no MLflow tracking server/],
    ["importMlflowRuns", /no MLflow import configured/],
  ])("%s answers 200 and says what it skipped", async (target, reason) => {
    const res = await fetch(`${session().stack.url}/${target}`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { skipped: string }).skipped).toMatch(reason);
  });
});
