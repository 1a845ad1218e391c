import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COST_EVENT_TYPES } from "#domain/events/cloud-event.ts";
import { eventJsonSchema } from "#domain/events/json-schemas.ts";
import { renderSchemaFiles, SCHEMAS_DIR } from "../../bin/commands/schemas-files.ts";

describe("JSON Schemas", () => {
  it("has one committed file per event type, equal to a fresh export", () => {
    const files = renderSchemaFiles();
    expect(Object.keys(files).sort()).toEqual(COST_EVENT_TYPES.map((t) => `${t}.json`).sort());
    const committed = readdirSync(SCHEMAS_DIR).filter((n) => n.startsWith("ai.cost."));
    expect(
      committed.sort(),
      "schemas/ lists other event types than the zod schemas: run npm run schemas",
    ).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) {
      const onDisk = readFileSync(join(SCHEMAS_DIR, name), "utf8");
      expect(onDisk, `schemas/${name} is out of date with the zod schemas: run npm run schemas`).toBe(text);
    }
  });

  it("includes the CloudEvent envelope and shows nanos as digits or a safe integer", () => {
    const schema = eventJsonSchema("ai.cost.inference.v1") as {
      required: string[];
      properties: { type: unknown; data: { properties: { cost_nanos: unknown } } };
    };
    expect(schema.required).toEqual(["specversion", "id", "source", "type", "time", "data"]);
    expect(schema.properties.type).toEqual({ type: "string", const: "ai.cost.inference.v1" });
    expect(schema.properties.data.properties.cost_nanos).toEqual({
      anyOf: [
        { type: "string", pattern: "^\\d{1,30}$", description: "nano-units as a string of digits" },
        { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      ],
    });
  });

  it("writes bigint defaults as strings", () => {
    const schema = eventJsonSchema("ai.cost.allocation.v1") as {
      properties: { data: { properties: { components: { properties: { gpu: { default: unknown } } } } } };
    };
    expect(schema.properties.data.properties.components.properties.gpu.default).toBe("0");
  });
});
