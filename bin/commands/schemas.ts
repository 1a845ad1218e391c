import { type Command, parseCommandArgs } from "../cli-args.ts";
import { renderSchemaFiles, SCHEMAS_DIR, writeSchemas } from "./schemas-files.ts";

export const schemasCommand: Command = {
  name: "schemas",
  summary: "print or write the JSON Schemas of the event types, for emitters in other languages",
  usage: `finops schemas [--write]

  Without --write, prints the JSON Schema of every event type (CloudEvent envelope and data) as one
  JSON object keyed by file name. With --write, regenerates the committed files in ${SCHEMAS_DIR}.`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { write: { type: "boolean", default: false } });
    if (values.write) {
      for (const path of await writeSchemas()) process.stdout.write(`wrote ${path}\n`);
      return 0;
    }
    const files = Object.fromEntries(Object.entries(renderSchemaFiles()).map(([n, t]) => [n, JSON.parse(t)]));
    process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
    return 0;
  },
};
