import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { BillingBudgetPlan } from "../billing-budget-plan.ts";
import { ROLES } from "../iam-roles.ts";
import { childName } from "../names.ts";

/** The identity Cloud Billing publishes budget notifications as. */
export const BILLING_BUDGET_PUBLISHER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com";

export interface BillingBudgetsArgs {
  billingAccount: string;
  /** The project the Billing Budget API calls are billed to (its quota project; the API is enabled there). */
  quotaProject: string;
  plans: readonly BillingBudgetPlan[];
  /** The billing-notification topic (TOPICS.gcpBudgets) that routeGcpBudget reads. */
  topic: gcp.pubsub.Topic;
  /** Project ids whose spend the budgets count (all projects on the account when empty). */
  projects: readonly string[];
}

/**
 * Cloud Billing budgets from the configured budgets that map to Google Cloud scopes (see
 * infra/billing-budget-plan.ts). Each sends every update to the billing-notification topic, so
 * routeGcpBudget hears of a threshold without anyone wiring the budget by hand.
 */
export class BillingBudgets extends pulumi.ComponentResource {
  readonly budgets: Readonly<Record<string, gcp.billing.Budget>>;

  constructor(name: string, args: BillingBudgetsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("finops:index:BillingBudgets", name, {}, opts);

    const publisher = new gcp.pubsub.TopicIAMMember(
      childName(name, "publisher"),
      {
        project: args.topic.project,
        topic: args.topic.name,
        role: ROLES.pubsubPublisher,
        member: BILLING_BUDGET_PUBLISHER,
      },
      { parent: this },
    );
    // The Budget API refuses calls without a quota project, which end-user credentials do not carry.
    const provider = new gcp.Provider(
      childName(name, "provider"),
      { project: args.quotaProject, billingProject: args.quotaProject, userProjectOverride: true },
      { parent: this },
    );
    // Budget filters name projects by number.
    const projects = args.projects.map(
      (projectId) =>
        pulumi.interpolate`projects/${gcp.organizations.getProjectOutput({ projectId }, { parent: this }).number}`,
    );
    this.budgets = Object.fromEntries(
      args.plans.map((plan) => [
        plan.budget.name,
        new gcp.billing.Budget(
          childName(name, plan.budget.name),
          {
            billingAccount: args.billingAccount,
            displayName: plan.displayName,
            amount: { specifiedAmount: plan.amount },
            budgetFilter: {
              calendarPeriod: plan.calendarPeriod,
              creditTypesTreatment: "INCLUDE_ALL_CREDITS",
              labels: plan.labels === undefined ? undefined : { ...plan.labels },
              projects: projects.length === 0 ? undefined : projects,
            },
            thresholdRules: plan.thresholdRules.map((rule) => ({ ...rule })),
            allUpdatesRule: { pubsubTopic: args.topic.id, schemaVersion: "1.0" },
          },
          { parent: this, provider, dependsOn: [publisher] },
        ),
      ]),
    );
    this.registerOutputs({});
  }
}
