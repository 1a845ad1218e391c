import { fromWebToken } from "@aws-sdk/credential-provider-web-identity";
import { fetchGoogleIdToken, GoogleIdTokenError } from "./google-id-token.ts";

export type AwsCredentialProvider = ReturnType<typeof fromWebToken>;

export interface GoogleWebIdentityOptions {
  /** The role to assume; its trust policy names accounts.google.com and this service account. */
  roleArn: string;
  /** The audience the Google ID token is asked for (the role's accounts.google.com:oaud). */
  audience: string;
  /** Names the session in CloudTrail. */
  roleSessionName?: string;
  /** The metadata server's base URL (default http://metadata.google.internal). */
  metadataUrl?: string;
  /** STS client settings (region, endpoint); by default those of the client the credentials are for. */
  sts?: { region?: string; endpoint?: string };
}

export class WebIdentityCredentialsError extends Error {
  override readonly name = "WebIdentityCredentialsError";
  /** True when asking again later may work. */
  readonly transient: boolean;

  constructor(message: string, transient: boolean, options?: ErrorOptions) {
    super(message, options);
    this.transient = transient;
  }
}

const TRANSIENT_STS_ERRORS = ["IDPCommunicationErrorException", "ThrottlingException", "Throttling"];

/**
 * AWS credentials for a role, assumed through web identity federation with a Google ID token of the
 * runtime's service account: no AWS key anywhere. A client given this provider caches what it
 * returns until shortly before the session expires, and then asks again (for a new token too).
 */
export function googleWebIdentityCredentials(options: GoogleWebIdentityOptions): AwsCredentialProvider {
  return async (identityProperties) => {
    let webIdentityToken: string;
    try {
      webIdentityToken = await fetchGoogleIdToken(options.audience, { metadataUrl: options.metadataUrl });
    } catch (cause) {
      if (!(cause instanceof GoogleIdTokenError)) throw cause;
      throw new WebIdentityCredentialsError(
        `a Google ID token for audience ${options.audience}: ${cause.message}`,
        cause.transient,
        { cause },
      );
    }
    try {
      return await fromWebToken({
        roleArn: options.roleArn,
        roleSessionName: options.roleSessionName ?? "finops-billing-source",
        webIdentityToken,
        clientConfig: options.sts,
      })(identityProperties);
    } catch (cause) {
      const e = cause as { name?: string; message?: string; $fault?: string; $metadata?: unknown };
      throw new WebIdentityCredentialsError(
        `sts:AssumeRoleWithWebIdentity of ${options.roleArn} failed: ${e.name ?? "Error"}: ${e.message ?? String(cause)}`,
        e.$fault === "server" || e.$metadata === undefined || TRANSIENT_STS_ERRORS.includes(e.name ?? ""),
        { cause },
      );
    }
  };
}
