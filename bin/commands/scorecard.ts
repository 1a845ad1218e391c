import { checkScorecardQuery } from "#app/scorecard.ts";
import {
  formatScorecard,
  SCORECARD_FORMATS,
  type ScorecardFormat,
} from "#domain/scorecard/scorecard-format.ts";
import { composeRuntime } from "#runtime/compose.ts";
import { loadConfig } from "#runtime/config.ts";
import { readEnv } from "#runtime/env.ts";
import { type Command, parseCommandArgs, UsageError } from "../cli-args.ts";

export const scorecardCommand: Command = {
  name: "scorecard",
  summary: "what each model could save: spot, 4-bit quantization, caching, right-sizing, combined",
  usage: `finops scorecard [--model M] [--team T] [--days N] [--format table|json]

  Per model, the four levers: monthly savings, percent of the model's cost, risk, implementation
  cost and ROI in weeks, in the order to pick them (quickest payback first), and what they save
  together (they compose: 1 − Π(1 − sᵢ), never the sum). Then per team, for its own workloads.
  Every assumption a figure rests on is printed with it; the settings are the config file's
  "scorecard" section (quantization speed-up, cache TTL, effort, engineer-week cost).

  --model    only this model
  --team     only this team's workloads
  --days     days of data up to now (default the config's scorecard.windowDays, 30), scaled to a month
  --format   table (default) or json (amounts as nano strings)`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      team: { type: "string" },
      days: { type: "string" },
      format: { type: "string", default: "table" },
    });
    const format = values.format as ScorecardFormat;
    if (!SCORECARD_FORMATS.includes(format)) {
      throw new UsageError(`--format: one of ${SCORECARD_FORMATS.join(", ")}`);
    }
    const query = {
      ...(values.days === undefined ? {} : { days: Number(values.days) }),
      ...(values.model === undefined ? {} : { model: values.model }),
      ...(values.team === undefined ? {} : { team: values.team }),
    };
    // Checked first, so a bad flag is told as one whether or not there is a warehouse.
    checkScorecardQuery(query, loadConfig(readEnv()).scorecard);
    const runtime = await composeRuntime({ logLevel: "warn", mustExist: true });
    try {
      const report = await runtime.scorecard(query);
      process.stdout.write(formatScorecard(report, format));
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
