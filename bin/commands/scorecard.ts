import { checkScorecardQuery } from "#app/scorecard.ts";
import { formatScorecard, SCORECARD_FORMATS } from "#domain/scorecard/scorecard-format.ts";
import { type Command, oneOf, parseCommandArgs, urlFlagHelp, wholeNumber } from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { runOperation } from "../run-operation.ts";

/** The scorecard, as `finops scorecard` prints it. */
export const scorecardOperation: Operation = {
  name: "scorecard",
  method: "GET",
  prepare(params, { now, config }) {
    const format = oneOf("--format", params.format, SCORECARD_FORMATS, "table");
    const query = {
      ...(params.days === undefined ? {} : { days: wholeNumber("--days", params.days) }),
      ...(params.model === undefined ? {} : { model: params.model }),
      ...(params.team === undefined ? {} : { team: params.team }),
    };
    // Checked first, so a bad flag is told as one whether or not there is a warehouse.
    checkScorecardQuery(query, config.scorecard);
    return async (runtime, output) => {
      // As of the instant the command was typed, wherever it runs.
      await output.out(formatScorecard(await runtime.scorecard({ ...query, asOf: now }), format));
      return 0;
    };
  },
};

export const scorecardCommand: Command = {
  name: "scorecard",
  summary: "what each model could save: spot, 4-bit quantization, caching, right-sizing, combined",
  usage: `finops scorecard [--model M] [--team T] [--days N] [--format table|json] [--url URL]

  Per model, the four levers: monthly savings, percent of the model's cost, risk, implementation
  cost and ROI in weeks, in the order to pick them (quickest payback first), and what they save
  together (they compose: 1 − Π(1 − sᵢ), never the sum). Then per team, for its own workloads.
  Every assumption a figure rests on is printed with it; the settings are the config file's
  "scorecard" section (quantization speed-up, cache TTL, effort, engineer-week cost).

  --model    only this model
  --team     only this team's workloads
  --days     days of data up to now (default the config's scorecard.windowDays, 30), scaled to a month
  --format   table (default) or json (amounts as nano strings)
${urlFlagHelp(13)}`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      model: { type: "string" },
      team: { type: "string" },
      days: { type: "string" },
      format: { type: "string" },
      url: { type: "string" },
    });
    return runOperation(scorecardOperation, textParams(values, ["url"]), { url: values.url });
  },
};
