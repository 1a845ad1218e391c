import { createHash } from "node:crypto";

/** Service account ids: 6 to 30 characters, lower-case letters, digits and dashes, letter first. */
const ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Cloud Functions (and their Cloud Run services): up to 63, same alphabet. */
const FUNCTION_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

export class NameError extends Error {
  override readonly name = "NameError";
}

/** camelCase or PascalCase to kebab-case: "ingestEvents" → "ingest-events". */
export function kebab(value: string): string {
  return value
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
}

/** A child's logical (Pulumi) name: the component's name, then the parts. */
export function childName(base: string, ...parts: readonly string[]): string {
  return [base, ...parts].join("-");
}

/**
 * Joins the parts and fits the result in `max` characters: when it is too long it keeps the head and
 * appends a hash of the whole, so two long names that share a prefix stay distinct and stable.
 */
function fitName(parts: readonly string[], max: number): string {
  const full = kebab(parts.join("-"));
  if (full.length <= max) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 6);
  return `${full.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

export function accountId(base: string, ...parts: readonly string[]): string {
  const id = fitName([base, ...parts], 30);
  if (!ACCOUNT_ID.test(id)) throw new NameError(`service account id ${JSON.stringify(id)} is not valid`);
  return id;
}

export function functionName(base: string, folder: string): string {
  const name = fitName([base, folder], 63);
  if (!FUNCTION_NAME.test(name)) throw new NameError(`function name ${JSON.stringify(name)} is not valid`);
  return name;
}
