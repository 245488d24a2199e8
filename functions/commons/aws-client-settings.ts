/**
 * How long one AWS call may take and how often it is tried. Left to its defaults the SDK
 * waits for ever on a connection that was accepted and then went silent, and the function
 * hangs until Lambda stops it. With these a hung DynamoDB, KMS or API Gateway call fails as
 * an error the callers already handle: the authorizer fails closed, and its pepper provider
 * drops the failed load so that the next request loads afresh.
 */
export interface AwsCallLimits {
  /** Milliseconds to open a connection. */
  readonly connectionTimeout: number;
  /** Milliseconds for the whole request and its response. */
  readonly requestTimeout: number;
  /** Tries per call, the first included. */
  readonly maxAttempts: number;
}

/**
 * Two tries of at most 2 s each, and the SDK's pause of a fraction of a second between them,
 * end inside the authorizer's 5 s timeout, so that it answers with its own fault instead of
 * being cut off. DynamoDB and KMS answer in milliseconds: these only ever stop a hung call.
 */
export const AWS_CALL_LIMITS: AwsCallLimits = { connectionTimeout: 1_000, requestTimeout: 2_000, maxAttempts: 2 };

export interface AwsClientSettings {
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    readonly throwOnRequestTimeout: true;
  };
}

/** The settings every SDK client is built with (spread into its configuration). */
export function awsClientSettings(overrides: Partial<AwsCallLimits> = {}): AwsClientSettings {
  const limits = { ...AWS_CALL_LIMITS, ...overrides };
  return {
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectionTimeout,
      requestTimeout: limits.requestTimeout,
      // Without it this SDK only logs a warning when the request timeout passes, and waits on.
      throwOnRequestTimeout: true,
    },
  };
}
