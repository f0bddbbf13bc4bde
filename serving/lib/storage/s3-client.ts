// The S3 client of the fetch and upload steps, configured from the environment only, so that
// static keys, IRSA (web identity), EKS Pod Identity and instance roles all work unchanged:
// credentials come from the SDK's default chain; AWS_REGION (default us-east-1),
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (MinIO, Ceph, s3rver) and AWS_S3_FORCE_PATH_STYLE
// are read here.
import { S3Client } from '@aws-sdk/client-s3';
import { UsageError } from '../cli/args.js';

export interface S3Settings {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new UsageError(`${name} must be true or false, got "${env[name]}"`);
}

/** What the client will talk to (no credentials: safe to print). */
export function s3Settings(env: NodeJS.ProcessEnv): S3Settings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint && !/^https?:\/\/[^/]/.test(endpoint))
    throw new UsageError(`AWS_ENDPOINT_URL must be an http(s):// URL, got "${endpoint}"`);
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint,
    forcePathStyle: flag(env, 'AWS_S3_FORCE_PATH_STYLE'),
  };
}

export function createS3Client(env: NodeJS.ProcessEnv): { client: S3Client; settings: S3Settings } {
  const settings = s3Settings(env);
  // Static keys in `env` are the default chain's first step anyway; passing them lets an
  // in-process caller use an env other than process.env. Without them the chain goes on
  // (web identity token, container credentials, instance metadata).
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN || undefined,
        }
      : undefined;
  const client = new S3Client({
    ...settings,
    credentials,
    // retry.ts is the one retry layer (it also retries a body that breaks halfway)
    maxAttempts: 1,
    // Checksums only where S3 requires them: the newer default (CRC32 on every upload, sent
    // as aws-chunked trailers for streams) is refused by several S3-compatible stores.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // A dead connection fails in 10 s to connect, or after 60 s without a byte, instead of
    // hanging an init container; a large download is never cut while bytes flow.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 60_000 },
  });
  return { client, settings };
}
