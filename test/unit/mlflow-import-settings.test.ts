import { describe, expect, it } from "vitest";
import { mlflowImportSettingsSchema, runKeysOf } from "#domain/training/mlflow-import-settings.ts";
import { ConfigError, parseConfig } from "#runtime/config.ts";

describe("training.mlflowImport settings", () => {
  const config = (mlflowImport: unknown) => parseConfig({ version: 1, training: { mlflowImport } }, "f.json");

  it("takes names, ids and per-experiment defaults, with defaults for the rest", () => {
    const parsed = config({
      baseUrl: "http://mlflow.internal:5000",
      experiments: ["llm-finetune", { id: 7, defaults: { cloud: "aws" } }],
      fields: { team: "tags.owner" },
    }).training.mlflowImport;

    expect(parsed).toMatchObject({
      source: "//mlflow",
      lookbackHours: 72,
      staleAfterHours: 24,
      timeoutMs: 30_000,
      experiments: [
        { name: "llm-finetune", defaults: {} },
        { id: "7", defaults: { cloud: "aws" } },
      ],
    });
    expect(runKeysOf(mlflowImportSettingsSchema.parse(parsed)).team).toEqual(["tags.owner"]);
  });

  it("refuses what it cannot use, naming the field", () => {
    const error = (() => {
      try {
        config({
          baseUrl: "ftp://x",
          experiments: [{ name: "a", id: "1" }],
          fields: { team: "labels.team", color: "tags.c" },
          defaults: { gpu_count: 0 },
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("training.mlflowImport.baseUrl:");
    expect(message).toContain("training.mlflowImport.experiments.0: give either name or id");
    expect(message).toContain(
      "training.mlflowImport.fields.team.0: must be tags.<key>, params.<key> or metrics.<key>",
    );
    expect(message).toContain(`training.mlflowImport.fields: Unrecognized key: "color"`);
    expect(message).toContain("training.mlflowImport.defaults.gpu_count");
    expect(() => config({ baseUrl: "http://x", experiments: [] })).toThrow(
      /training\.mlflowImport\.experiments: name at least one experiment/,
    );
  });
});
