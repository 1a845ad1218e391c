import type { detectAnomaliesResultToJson } from "#app/detect-anomalies.ts";
import type { DemoOut, LocalSession } from "./local-session.ts";

/** A baseline needs history: with less, every scope's first hours look like a jump from nothing. */
export const ANOMALY_DEMO_MIN_HOURS = 24;

export type DemoAnomaliesSummary =
  | { skipped: string }
  | { hour: string; published: { key: string; kind: string }[]; secondRun: number; alreadySent: number };

type DetectAnswer = ReturnType<typeof detectAnomaliesResultToJson>;

async function detect(session: LocalSession): Promise<DetectAnswer> {
  const res = await session.stack.trigger("detectAnomalies");
  if (!res.ok) throw new Error(`detectAnomalies answered ${res.status}: ${await res.text()}`);
  const answer = (await res.json()) as DetectAnswer;
  await (session.runtime.bus as { drain?: () => Promise<void> }).drain?.();
  return answer;
}

/**
 * detectAnomalies, run twice as the hourly scheduler would (POST /detectAnomalies): the last whole
 * hour against each scope's baseline, running training jobs against their peers. The demo's last
 * hours carry a spike in one team's inference and its runaway job: each is one alert, and the
 * second run sends none.
 */
export async function demoAnomalyAlerts(
  session: LocalSession,
  out: DemoOut,
  hours: number,
): Promise<DemoAnomaliesSummary> {
  out.write("\nSpend anomalies and runaway training jobs (POST /detectAnomalies, hourly)\n");
  if (hours < ANOMALY_DEMO_MIN_HOURS) {
    const skipped = `skipped: a baseline needs at least ${ANOMALY_DEMO_MIN_HOURS} hours of history (--hours)`;
    out.write(`  ${skipped}\n`);
    return { skipped };
  }
  const first = await detect(session);
  const second = await detect(session);
  const judged = `${first.hour.slice(0, 16).replace("T", " ")} UTC`;
  out.write(
    `  the hour ${judged}: ${first.published.length} alerts published` +
      `${first.published.length === 0 ? " (already sent by an earlier run)" : ""}\n`,
  );
  for (const p of first.published) out.write(`    ${p.severity.padEnd(8)} ${p.key}\n`);
  out.write(
    `  second run: ${second.published.length} published, ${second.already_sent} already sent: one alert per incident\n`,
  );
  return {
    hour: first.hour,
    published: first.published.map((p) => ({ key: p.key, kind: p.kind })),
    secondRun: second.published.length,
    alreadySent: second.already_sent,
  };
}
