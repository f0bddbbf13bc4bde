// The part of s3rver 3.7's API the dev cluster uses (the package ships no types).
declare module 's3rver' {
  import type { RequestListener } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    vhostBuckets?: boolean;
    serviceEndpoint?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets in the store (idempotent). */
    configureBuckets(): Promise<void>;
    /** Koa's request handler, for a server of one's own. */
    callback(): RequestListener;
    store: {
      getBucketPath(bucket: string): string;
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    };
  }

  export = S3rver;
}
