import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "#runtime/config.ts";

const ROLE_ARN = "arn:aws:iam::210987654321:role/finops-aws-cost-explorer-read";

const withSource = (source: Record<string, unknown>) => ({
  version: 1,
  reconciliation: { sources: [{ kind: "aws-cost-explorer", billingAccountId: "123456789012", ...source }] },
});

function problemsOf(raw: unknown): string {
  try {
    parseConfig(raw, "finops.config.json");
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("the AWS Cost Explorer source's identity settings", () => {
  it("take a role to assume, with the audience left to the default or named", () => {
    const [source] = parseConfig(withSource({ assumeRoleArn: ROLE_ARN }), "f.json").reconciliation.sources;
    expect(source).toEqual({
      kind: "aws-cost-explorer",
      name: "aws-cost-explorer",
      billingAccountId: "123456789012",
      groupByTag: "team",
      maxPages: 100,
      assumeRoleArn: ROLE_ARN,
    });
    const [own] = parseConfig(
      withSource({ assumeRoleArn: "arn:aws-us-gov:iam::123456789012:role/team/finops", audience: "finops" }),
      "f.json",
    ).reconciliation.sources;
    expect(own).toMatchObject({ audience: "finops" });
  });

  it("use the default credential chain when no role is named", () => {
    const [source] = parseConfig(withSource({}), "f.json").reconciliation.sources;
    expect(source).not.toHaveProperty("assumeRoleArn");
    expect(source).not.toHaveProperty("audience");
  });

  it("name the field of a role that is not an IAM role ARN, and of an audience without a role", () => {
    expect(problemsOf(withSource({ assumeRoleArn: "finops-aws-cost-explorer-read" }))).toMatch(
      /reconciliation\.sources\.0\.assumeRoleArn: must be an IAM role ARN such as arn:aws:iam::123456789012:role\//,
    );
    expect(problemsOf(withSource({ assumeRoleArn: "arn:aws:iam::210987654321:user/finops" }))).toMatch(
      /reconciliation\.sources\.0\.assumeRoleArn: must be an IAM role ARN/,
    );
    expect(problemsOf(withSource({ audience: "sts.amazonaws.com" }))).toMatch(
      /reconciliation\.sources\.0\.audience: is used only with assumeRoleArn/,
    );
    expect(problemsOf(withSource({ assumeRoleArn: ROLE_ARN, audience: "" }))).toMatch(
      /reconciliation\.sources\.0\.audience: /,
    );
  });
});
