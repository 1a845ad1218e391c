import { z } from "zod";
import { COST_EVENT_TYPES, type CostEventType, dataSchemas, envelopeSchema } from "./cloud-event.ts";
import { nonNegativeNanosSchema } from "./common.ts";

/** A JSON Schema document (draft 2020-12) as plain JSON. */
export type JsonSchema = Record<string, unknown>;

/** The structured-mode CloudEvent of one type, envelope and data, as an emitter writes it. */
export function eventSchema(type: CostEventType) {
  return envelopeSchema.extend({ type: z.literal(type), data: dataSchemas[type] });
}

/**
 * JSON Schema for one event type, from the zod schemas (the input side: what goes on the wire).
 * Nano amounts are a string of digits or a safe integer; bigint defaults are written as strings.
 */
export function eventJsonSchema(type: CostEventType): JsonSchema {
  const schema = z.toJSONSchema(eventSchema(type), {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: ({ zodSchema, message }) => {
      const def = zodSchema._zod.def;
      // A bigint default is written by `override` below, as a string of digits.
      if (def.type === "default" && typeof def.defaultValue === "bigint") return {};
      throw new Error(`${type}: ${message}`);
    },
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type === "default" && typeof def.defaultValue === "bigint") {
        jsonSchema.default = def.defaultValue.toString();
      }
      // The refinement (>= 0) has no JSON Schema form of its own: say it in the two wire forms.
      if (zodSchema === nonNegativeNanosSchema) {
        jsonSchema.anyOf = [
          { type: "string", pattern: "^\\d{1,30}$", description: "nano-units as a string of digits" },
          { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        ];
      }
    },
  });
  return {
    $schema: schema.$schema,
    $id: `${type}.json`,
    title: type,
    description: `CloudEvents 1.0 structured-mode event of type ${type} (generated from the zod schemas by npm run schemas).`,
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}

/** Every event type's schema, keyed by the file name it is committed under in schemas/. */
export function eventJsonSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(COST_EVENT_TYPES.map((type) => [`${type}.json`, eventJsonSchema(type)]));
}
