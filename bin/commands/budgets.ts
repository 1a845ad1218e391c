import {
  BUDGET_FORMATS,
  type BudgetFormat,
  type BudgetStatus,
  formatBudgetList,
  formatBudgetStatus,
} from "#domain/budgets/budget-status.ts";
import { reaches } from "#domain/budgets/evaluate-budget.ts";
import {
  type Command,
  commandAction,
  oneOf,
  parseCommandArgs,
  UsageError,
  urlFlagHelp,
} from "../cli-args.ts";
import { type Operation, textParams } from "../operation.ts";
import { commandConfig, runOperation } from "../run-operation.ts";

const ACTIONS = ["list", "check"] as const;

/** `finops budgets check`: each budget's standing; exit 1 when one has reached its amount. */
export const budgetsCheckOperation: Operation = {
  name: "budgets-check",
  method: "GET",
  prepare(params, { now }) {
    const format = formatOf(params.format);
    return async (runtime, output) => {
      // As the hourly evaluation judges them (the rollup), so check and the alerts agree.
      const statuses = await runtime.evaluateBudgets.budgetStatus("rollup", now);
      await output.out(formatBudgetStatus(statuses, format));
      const over = statuses.some(({ evaluation: e }: BudgetStatus) =>
        reaches(e.spend_nanos, e.budget.amount_nanos, 100),
      );
      return over ? 1 : 0;
    };
  },
};

function formatOf(text: string | undefined): BudgetFormat {
  return oneOf("--format", text, BUDGET_FORMATS, "table");
}

export const budgetsCommand: Command = {
  name: "budgets",
  summary: "list the configured budgets, or check their spend, percent used and forecast",
  usage: `finops budgets list|check [--format table|json] [--url URL]

  list       the budgets in the configuration: scope, period, time zone, amount, thresholds,
             forecast alerting, owner and enforcement
  check      each budget's spend so far in its current period (from the hourly rollup), percent
             used, period-end forecast, and how much of the spend is reconciled against the bill
             and how much is still an estimate; sends no alert
  --format   table (default) or json (amounts as nano strings)
${urlFlagHelp(13, " (check only)")}

  Exit status of check: 0 when every budget is under 100% of its amount, 1 when any has reached
  or passed it (so a cron job or CI step can act on it), 2 on a usage or configuration error.`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { format: { type: "string" }, url: { type: "string" } },
      true,
    );
    const action = commandAction(positionals, ACTIONS);

    if (action === "list") {
      if (values.url !== undefined)
        throw new UsageError("--url: only for check (list reads the configuration)");
      const format = formatOf(values.format);
      process.stdout.write(formatBudgetList(commandConfig().config.budgets, format));
      return 0;
    }
    return runOperation(budgetsCheckOperation, textParams(values, ["url"]), { url: values.url });
  },
};
