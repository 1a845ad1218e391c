import { describe, expect, it } from "vitest";
import { DEMO_GATEWAY_DEPLOYMENT, demoGatewayTraffic } from "#domain/demo/gateway-traffic.ts";
import { demoWindow } from "../../bin/commands/demo-feed.ts";
import { runDemo } from "../../bin/commands/local-session.ts";
import { openDemoTestSession, report, tempDuckDb } from "../support/local-stack-session.ts";

/**
 * The demo's vLLM behind LiteLLM: its spans reach the running stack as OTLP protobuf over HTTP, the
 * gateway's payloads as LiteLLM posts them, and the report shows the deployment's cost by the two
 * teams that called it through the gateway (and the direct calls under its configured owner).
 */

describe("the demo's self-hosted model behind LiteLLM", () => {
  it("reports the deployment's cost by the gateway's teams, each request once", async () => {
    // Prepare
    const db = tempDuckDb("finops-demo-gateway-");
    const session = await openDemoTestSession(db.path);
    let printed = "";
    try {
      // Act
      const hours = 3;
      const now = session.runtime.clock.now();
      await runDemo(session, { hours, seed: "gateway-e2e", out: { write: (t: string) => (printed += t) } });

      // Assess: every hour that has ended its requests: 3 + 2 through LiteLLM, 1 direct.
      const window = demoWindow(now, hours);
      const sent = demoGatewayTraffic({ ...window, hours, seed: "gateway-e2e", now }).length;
      expect(sent).toBeGreaterThanOrEqual(hours - 1);
      expect(printed).toContain(`vLLM behind LiteLLM: ${sent * 6} request spans as OTLP protobuf`);
      const rows = await report(session.runtime, { by: ["team", "model"], ...window });
      const llama = rows
        .filter((r) => r.group.model === DEMO_GATEWAY_DEPLOYMENT.model)
        .map((r) => ({ team: r.group.team, rows: r.rows, priced: r.cost_nanos > 0n }))
        .sort((a, b) => String(a.team).localeCompare(String(b.team)));
      expect(llama).toEqual([
        { team: "chat-experience", rows: 3 * sent, priced: true },
        { team: "ml-platform", rows: sent, priced: true },
        { team: "support-automation", rows: 2 * sent, priced: true },
      ]);
      expect(printed).toMatch(/chat-experience\s+llama-3\.1-8b-instruct/);
    } finally {
      await session.close();
      db.remove();
    }
  }, 120_000);
});
