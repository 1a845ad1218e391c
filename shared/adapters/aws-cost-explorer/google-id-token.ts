/** The metadata server every Google Cloud runtime (Cloud Functions, Cloud Run, Compute Engine) answers on. */
export const METADATA_SERVER_URL = "http://metadata.google.internal";

const IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity";

export interface GoogleIdTokenOptions {
  /** The metadata server's base URL. */
  metadataUrl?: string;
  timeoutMs?: number;
}

export class GoogleIdTokenError extends Error {
  override readonly name = "GoogleIdTokenError";
  /** True when asking again later may work. */
  readonly transient: boolean;

  constructor(message: string, transient: boolean, options?: ErrorOptions) {
    super(message, options);
    this.transient = transient;
  }
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

/**
 * A Google ID token of the runtime's service account for `audience`, from the metadata server.
 * format=full: the token carries the account's email besides sub and azp (its unique id).
 */
export async function fetchGoogleIdToken(
  audience: string,
  options: GoogleIdTokenOptions = {},
): Promise<string> {
  const url = new URL(IDENTITY_PATH, options.metadataUrl ?? METADATA_SERVER_URL);
  url.searchParams.set("audience", audience);
  url.searchParams.set("format", "full");
  let status: number;
  let body: string;
  try {
    const response = await fetch(url, {
      headers: { "Metadata-Flavor": "Google" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    status = response.status;
    body = await response.text();
  } catch (cause) {
    const code = causeCode(cause);
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      throw new GoogleIdTokenError(
        `no metadata server at ${url.origin} (${code}): a role is assumed this way on Google Cloud only`,
        code === "EAI_AGAIN",
        { cause },
      );
    }
    throw new GoogleIdTokenError(
      `metadata server ${url.origin} did not answer: ${(cause as Error).message}${code ? ` (${code})` : ""}`,
      true,
      { cause },
    );
  }
  if (status !== 200) {
    throw new GoogleIdTokenError(
      `metadata server answered HTTP ${status} for an ID token: ${body.trim().slice(0, 200)}`,
      status === 429 || status >= 500,
    );
  }
  const token = body.trim();
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    throw new GoogleIdTokenError("metadata server answered with something other than a JWT", false);
  }
  return token;
}
