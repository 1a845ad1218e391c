/** Small lexical helpers for reading GoogleSQL files: strings and comments are never mistaken for code. */

const STRING_OR_COMMENT = /'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`[^`]*`|--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\//g;

/** The text with its comments removed; quoted strings and identifiers are kept as they are. */
export function stripComments(sql: string): string {
  return sql.replace(STRING_OR_COMMENT, (token) =>
    token.startsWith("--") || token.startsWith("#") || token.startsWith("/*") ? "" : token,
  );
}

/** The text with every string literal blanked (same length), to search code only; identifiers stay. */
export function maskQuoted(sql: string): string {
  return sql.replace(STRING_OR_COMMENT, (token) =>
    token.startsWith("'") || token.startsWith('"')
      ? token[0] + " ".repeat(Math.max(0, token.length - 2)) + token[0]
      : token,
  );
}

const OPEN: Readonly<Record<string, string>> = { "(": ")", "<": ">", "[": "]" };

/**
 * Splits at `separator` where it stands outside brackets and quotes. Indexes are taken on the masked
 * text, so the parts keep their strings.
 */
export function splitTopLevel(sql: string, separator: string): string[] {
  const masked = maskQuoted(sql);
  const parts: string[] = [];
  const stack: string[] = [];
  let start = 0;
  for (let i = 0; i < masked.length; i++) {
    const char = masked[i] as string;
    if (OPEN[char] !== undefined) stack.push(OPEN[char]);
    else if (char === stack[stack.length - 1]) stack.pop();
    else if (char === separator && stack.length === 0) {
      parts.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(sql.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

/** The index of the parenthesis that closes the one at `open`, or -1. */
export function closingParen(sql: string, open: number): number {
  const masked = maskQuoted(sql);
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if (masked[i] === "(") depth++;
    else if (masked[i] === ")" && --depth === 0) return i;
  }
  return -1;
}

/** A quoted GoogleSQL string literal's value ('...' or "...", backslash escapes). */
export function unquote(literal: string): string | undefined {
  const match = /^(['"])([\s\S]*)\1$/.exec(literal.trim());
  return match?.[2]?.replace(/\\(.)/g, "$1");
}
