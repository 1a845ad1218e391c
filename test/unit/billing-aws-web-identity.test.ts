import { readFileSync } from "node:fs";
import { CostExplorerClient, GetCostAndUsageCommand } from "@aws-sdk/client-cost-explorer";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAwsCostExplorerBillingSource } from "#adapters/aws-cost-explorer/aws-cost-explorer-billing-source.ts";
import { fetchGoogleIdToken, GoogleIdTokenError } from "#adapters/aws-cost-explorer/google-id-token.ts";
import {
  type GoogleWebIdentityOptions,
  googleWebIdentityCredentials,
  WebIdentityCredentialsError,
} from "#adapters/aws-cost-explorer/google-web-identity-credentials.ts";
import { BillingSourceError } from "#ports/billing-source.ts";
import {
  type Answer,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from "../support/recording-server.ts";

// reconcileDaily's Google identity becomes AWS credentials: an ID token from the metadata server
// (a local stand-in here), exchanged at STS (another) for a session of the Cost Explorer role.

const ROLE_ARN = "arn:aws:iam::210987654321:role/finops-aws-cost-explorer-read";
const AUDIENCE = "sts.amazonaws.com";
const IDENTITY_PATH = "/computeMetadata/v1/instance/service-accounts/default/identity";
const UNIQUE_ID = "104729843719288437123";

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An ID token shaped as the metadata server's (format=full), unsigned: STS is a stand-in too. */
function idToken(audience: string, issuedAt: number): string {
  const claims = {
    aud: audience,
    azp: UNIQUE_ID,
    sub: UNIQUE_ID,
    email: "finops-reconcile-daily@finops-prod.iam.gserviceaccount.com",
    email_verified: true,
    iss: "https://accounts.google.com",
    iat: issuedAt,
    exp: issuedAt + 3600,
  };
  return `${base64url({ alg: "RS256", kid: "test", typ: "JWT" })}.${base64url(claims)}.c2lnbmF0dXJl`;
}

/** The metadata server: refuses a request without Metadata-Flavor, as the real one does. */
function metadataAnswer(request: RecordedRequest): Answer {
  if (request.headers["metadata-flavor"] !== "Google") {
    return { status: 403, body: "Missing Metadata-Flavor:Google header.\n" };
  }
  const audience = request.url.searchParams.get("audience");
  if (request.url.pathname !== IDENTITY_PATH || !audience) return { status: 404, body: "Not Found\n" };
  return {
    status: 200,
    headers: { "Metadata-Flavor": "Google", "Content-Type": "text/html" },
    body: idToken(audience, Math.floor(Date.now() / 1000)),
  };
}

const claimsOf = (token: string | undefined) =>
  JSON.parse(Buffer.from(token?.split(".")[1] ?? "", "base64url").toString("utf8"));

let session = 0;

/** STS's AssumeRoleWithWebIdentity answer (Query protocol XML), a session expiring `lifetimeMs` from now. */
function stsAnswer(lifetimeMs: number): Answer {
  session += 1;
  const expiration = new Date(Date.now() + lifetimeMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    status: 200,
    headers: { "Content-Type": "text/xml" },
    body: `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${UNIQUE_ID}</SubjectFromWebIdentityToken>
    <Audience>${UNIQUE_ID}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::210987654321:assumed-role/finops-aws-cost-explorer-read/finops-billing-source</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:finops-billing-source</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>session-token-${session}</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>${expiration}</Expiration>
      <AccessKeyId>ASIAEXAMPLE${session}</AccessKeyId>
    </Credentials>
    <Provider>accounts.google.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
  };
}

function stsError(status: number, code: string, message: string): Answer {
  return {
    status,
    headers: { "Content-Type": "text/xml" },
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>${status >= 500 ? "Receiver" : "Sender"}</Type><Code>${code}</Code><Message>${message}</Message></Error>
  <RequestId>4c5d6e7f-0000-4000-8000-EXAMPLE</RequestId>
</ErrorResponse>`,
  };
}

let metadata: RecordingServer;
let metadataReply: (request: RecordedRequest) => Answer = metadataAnswer;
let sts: RecordingServer;
let stsReply: () => Answer = () => stsAnswer(3_600_000);

beforeAll(async () => {
  metadata = await startRecordingServer((request) => metadataReply(request));
  sts = await startRecordingServer(() => stsReply());
});

afterAll(async () => {
  await metadata.close();
  await sts.close();
});

beforeEach(() => {
  metadata.requests.length = 0;
  sts.requests.length = 0;
  metadataReply = metadataAnswer;
  stsReply = () => stsAnswer(3_600_000);
});

const options = (): GoogleWebIdentityOptions => ({
  roleArn: ROLE_ARN,
  audience: AUDIENCE,
  metadataUrl: metadata.url,
  sts: { region: "us-east-1", endpoint: sts.url },
});

describe("the Google ID token", () => {
  it("is asked of the metadata server for the audience, in full format, with Metadata-Flavor: Google", async () => {
    const token = await fetchGoogleIdToken(AUDIENCE, { metadataUrl: metadata.url });

    expect(metadata.requests).toHaveLength(1);
    const [request] = metadata.requests;
    expect(request?.method).toBe("GET");
    expect(request?.url.pathname).toBe(IDENTITY_PATH);
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      audience: AUDIENCE,
      format: "full",
    });
    expect(request?.headers["metadata-flavor"]).toBe("Google");
    expect(claimsOf(token)).toMatchObject({ aud: AUDIENCE, sub: UNIQUE_ID });
  });

  it("fails with the metadata server's answer, transient only for 429 and 5xx", async () => {
    metadataReply = () => ({ status: 404, body: "Not Found\n" });
    await expect(fetchGoogleIdToken(AUDIENCE, { metadataUrl: metadata.url })).rejects.toMatchObject({
      name: "GoogleIdTokenError",
      transient: false,
      message: "metadata server answered HTTP 404 for an ID token: Not Found",
    });
    metadataReply = () => ({ status: 503, body: "unavailable" });
    await expect(fetchGoogleIdToken(AUDIENCE, { metadataUrl: metadata.url })).rejects.toMatchObject({
      transient: true,
    });
    metadataReply = () => ({ status: 200, body: "<html>captive portal</html>" });
    await expect(fetchGoogleIdToken(AUDIENCE, { metadataUrl: metadata.url })).rejects.toThrow(
      /something other than a JWT/,
    );
  });

  it("fails transiently when the metadata server does not answer", async () => {
    const gone = await startRecordingServer(metadataAnswer);
    await gone.close();
    const error = await fetchGoogleIdToken(AUDIENCE, { metadataUrl: gone.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoogleIdTokenError);
    expect(error).toMatchObject({
      transient: true,
      message: expect.stringMatching(/did not answer.*ECONNREFUSED/),
    });
  });
});

describe("the web identity credentials", () => {
  it("call sts:AssumeRoleWithWebIdentity, unsigned, with the role ARN and the metadata server's token", async () => {
    const credentials = await googleWebIdentityCredentials(options())();

    expect(sts.requests).toHaveLength(1);
    const [request] = sts.requests;
    expect(request?.headers.authorization).toBeUndefined();
    const form = Object.fromEntries(new URLSearchParams(request?.body));
    expect(form).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: ROLE_ARN,
      RoleSessionName: "finops-billing-source",
    });
    expect(metadata.requests).toHaveLength(1);
    expect(claimsOf(form.WebIdentityToken)).toMatchObject({ aud: AUDIENCE, sub: UNIQUE_ID });
    expect(credentials).toMatchObject({
      accessKeyId: `ASIAEXAMPLE${session}`,
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      sessionToken: `session-token-${session}`,
      expiration: expect.any(Date),
    });
  });

  it("name the role when STS refuses, and retry only what may pass", async () => {
    stsReply = () => stsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    await expect(googleWebIdentityCredentials(options())()).rejects.toMatchObject({
      name: "WebIdentityCredentialsError",
      transient: false,
      message: `sts:AssumeRoleWithWebIdentity of ${ROLE_ARN} failed: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`,
    });
    stsReply = () => stsError(400, "IDPCommunicationError", "The token could not be verified");
    await expect(googleWebIdentityCredentials(options())()).rejects.toMatchObject({ transient: true });
  });

  it("say which audience the token was for when the metadata server fails, and ask STS nothing", async () => {
    metadataReply = () => ({ status: 403, body: "Forbidden" });
    const error = await googleWebIdentityCredentials(options())().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebIdentityCredentialsError);
    expect((error as Error).message).toBe(
      `a Google ID token for audience ${AUDIENCE}: metadata server answered HTTP 403 for an ID token: Forbidden`,
    );
    expect(sts.requests).toEqual([]);
  });
});

const costExplorerPage = () => {
  const page = JSON.parse(
    readFileSync(
      new URL("../fixtures/billing/get-cost-and-usage.monthly-groupby-service-tag.json", import.meta.url),
      "utf8",
    ),
  );
  for (const group of page.ResultsByTime[0].Groups) group.Metrics.AmortizedCost = group.Metrics.UnblendedCost;
  page.ResultsByTime[0].TimePeriod = { Start: "2017-09-01", End: "2017-09-02" };
  return page;
};

describe("the Cost Explorer billing source with webIdentity", () => {
  let ce: AwsClientStub<CostExplorerClient>;
  const used: unknown[] = [];

  beforeAll(() => {
    ce = mockClient(CostExplorerClient);
  });
  afterAll(() => ce.restore());
  beforeEach(() => {
    ce.reset();
    used.length = 0;
    // What send does before the request: resolve the client's credentials.
    ce.on(GetCostAndUsageCommand).callsFake(async (_input, getClient) => {
      used.push(await getClient().config.credentials());
      return costExplorerPage();
    });
  });

  const source = () =>
    createAwsCostExplorerBillingSource({
      billingAccountId: "210987654321",
      groupByTag: "Environment",
      webIdentity: options(),
    });
  const period = { start: "2017-09-01", end: "2017-09-02" } as const;

  it("builds its client with the role's credentials, and keeps them while the session lasts", async () => {
    const billing = source();
    expect(await billing.billedLines(period)).toHaveLength(2);
    await billing.billedLines(period);

    expect(metadata.requests.map((r) => r.url.searchParams.get("audience"))).toEqual([AUDIENCE]);
    expect(sts.requests).toHaveLength(1);
    expect(used).toEqual([
      expect.objectContaining({ accessKeyId: `ASIAEXAMPLE${session}` }),
      expect.objectContaining({ accessKeyId: `ASIAEXAMPLE${session}` }),
    ]);
  });

  it("gets a new token and session when the session is about to expire", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const billing = source();
      await billing.billedLines(period);
      vi.setSystemTime(Date.now() + 56 * 60_000);
      await billing.billedLines(period);
    } finally {
      vi.useRealTimers();
    }

    expect(metadata.requests).toHaveLength(2);
    expect(sts.requests).toHaveLength(2);
    expect(used.map((c) => (c as { sessionToken: string }).sessionToken)).toEqual([
      `session-token-${session - 1}`,
      `session-token-${session}`,
    ]);
  });

  it("fails as a BillingSourceError that says why the role could not be assumed", async () => {
    stsReply = () => stsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    const error = await source()
      .billedLines(period)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BillingSourceError);
    expect(error).toMatchObject({
      code: "invalid",
      message: expect.stringContaining(`of ${ROLE_ARN} failed: AccessDenied`),
    });

    stsReply = () => stsError(500, "InternalFailure", "We encountered an internal error");
    await expect(source().billedLines(period)).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("a Cost Explorer client with the web identity credentials", () => {
  let costExplorer: RecordingServer;

  beforeAll(async () => {
    costExplorer = await startRecordingServer(() => ({
      status: 200,
      headers: { "Content-Type": "application/x-amz-json-1.1" },
      body: JSON.stringify(costExplorerPage()),
    }));
  });
  afterAll(() => costExplorer.close());
  afterEach(() => {
    costExplorer.requests.length = 0;
  });

  it("signs Cost Explorer requests with the assumed role's session, not with any stored key", async () => {
    const billing = createAwsCostExplorerBillingSource({
      billingAccountId: "210987654321",
      groupByTag: "Environment",
      client: new CostExplorerClient({
        region: "us-east-1",
        endpoint: costExplorer.url,
        credentials: googleWebIdentityCredentials(options()),
      }),
    });
    expect(await billing.billedLines({ start: "2017-09-01", end: "2017-09-02" })).toHaveLength(2);

    const [request] = costExplorer.requests;
    expect(request?.headers["x-amz-target"]).toBe("AWSInsightsIndexService.GetCostAndUsage");
    expect(request?.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE${session}/\\d{8}/us-east-1/ce/aws4_request`),
    );
    expect(request?.headers["x-amz-security-token"]).toBe(`session-token-${session}`);
  });
});
