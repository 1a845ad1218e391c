import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventJsonSchemas } from "#domain/events/json-schemas.ts";

/** Where the generated JSON Schemas are committed, for emitters that do not use TypeScript. */
export const SCHEMAS_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

/** Each schema file's name and exact text (two-space JSON, trailing newline). */
export function renderSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(eventJsonSchemas()).map(([name, schema]) => [
      name,
      `${JSON.stringify(schema, null, 2)}\n`,
    ]),
  );
}

/** Writes every schema into `dir` and removes generated files of event types that no longer exist. */
export async function writeSchemas(dir = SCHEMAS_DIR): Promise<string[]> {
  const files = renderSchemaFiles();
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (/^ai\.cost\..+\.json$/.test(name) && !(name in files)) await rm(join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}
