// A loaded model: the artifact plus an onnxruntime session whose graph was checked against
// the signature. run() is async (onnxruntime works off the event loop).
import * as ort from 'onnxruntime-node';
import { readArtifact, type Artifact } from './artifact.js';
import { compareSignatureWithGraph, type GraphValue } from './graph-check.js';
import { ServingError } from '../errors.js';
import { headProbabilities, predictionOf, type ItemPrediction } from './heads.js';

export interface LoadOptions {
  /** onnxruntime intra-op threads; 0 = onnxruntime's default (one per core) */
  intraOpThreads?: number;
  /** let idle intra-op pool threads busy-wait for the next run (onnxruntime's default; off here) */
  intraOpSpinning?: boolean;
  /** read profile.json when present (serve: yes; validate: it is about to be rewritten) */
  profile?: boolean;
}

export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

function toGraphValues(values: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] {
  return values.map((v) =>
    v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: v.shape } : { name: v.name, isTensor: false },
  );
}

/**
 * onnxruntime session options. With a pool (intra-op threads other than 1) onnxruntime lets
 * idle pool threads spin between runs by default: measured on the shared 2-core machine at
 * 250 runs/s, ~4 ms of CPU burnt per 0.3 ms inference (vs ~0.6 ms without spinning), taken
 * from the event loop and sharp. So spinning is off unless asked for; it changes timing only,
 * never results. With 1 thread there is no pool and nothing to spin.
 */
export function sessionOptions(opts: LoadOptions): ort.InferenceSession.SessionOptions {
  const threads = opts.intraOpThreads ?? 0;
  return {
    graphOptimizationLevel: 'all',
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    ...(threads === 1
      ? {}
      : { extra: { session: { intra_op: { allow_spinning: opts.intraOpSpinning ? '1' : '0' } } } }),
  };
}

export class Model {
  private constructor(
    readonly artifact: Artifact,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(dir: string, opts: LoadOptions = {}): Promise<Model> {
    return Model.fromArtifact(await readArtifact(dir, { profile: opts.profile }), opts);
  }

  /** Creates the onnxruntime session and checks the graph against the signature. */
  static async fromArtifact(artifact: Artifact, opts: LoadOptions = {}): Promise<Model> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(artifact.modelBytes, sessionOptions(opts));
    } catch (err) {
      throw new ServingError('INVALID_ARTIFACT', `model.onnx: onnxruntime cannot load it: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const problems = compareSignatureWithGraph(
      artifact.signature,
      toGraphValues(session.inputMetadata),
      toGraphValues(session.outputMetadata),
    );
    if (problems.length) {
      await session.release();
      throw new ServingError('SIGNATURE_MISMATCH', `modelship.json does not match model.onnx: ${problems.join('; ')}`);
    }
    return new Model(artifact, session);
  }

  get signature() {
    return this.artifact.signature;
  }

  /** Runs the graph on a [n, ...] float32 input; returns every head's raw output. */
  async runRaw(input: Float32Array, dims: number[]): Promise<Record<string, RawOutput>> {
    const feeds = { [this.signature.input.tensor]: new ort.Tensor('float32', input, dims) };
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds);
    } catch (err) {
      throw new ServingError('INFERENCE_FAILED', `inference failed: ${(err as Error).message}`, { cause: err });
    }
    const out: Record<string, RawOutput> = {};
    for (const head of this.signature.heads) {
      const t = results[head.tensor];
      out[head.tensor] = { data: t.data as Float32Array, dims: t.dims };
    }
    return out;
  }

  /** Runs the graph and turns each head's output into per-item predictions. */
  async predict(input: Float32Array, dims: number[]): Promise<ItemPrediction[]> {
    const raw = await this.runRaw(input, dims);
    return predictionsFromRaw(this.signature.heads, raw, dims[0]);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function predictionsFromRaw(
  heads: Model['signature']['heads'],
  raw: Record<string, RawOutput>,
  n: number,
): ItemPrediction[] {
  const items: ItemPrediction[] = Array.from({ length: n }, () => ({}));
  for (const head of heads) {
    const { data, dims } = raw[head.tensor];
    const width = dims.length > 1 ? dims[1] : 1;
    if (dims[0] !== n || (width !== head.labels.length && width !== 1)) {
      throw new ServingError(
        'INFERENCE_FAILED',
        `head "${head.name}" returned shape [${dims.join(', ')}] for ${n} items and ${head.labels.length} labels`,
      );
    }
    for (let row = 0; row < n; row++) {
      const probabilities = headProbabilities(head, data, width, row);
      // Inputs at the edge of float32 overflow inside the graph; such an answer is the input's
      // fault (400), and NaN must never reach the scores or the metrics.
      if (!probabilities.every(Number.isFinite))
        throw new ServingError(
          'INVALID_INPUT',
          `the model computed no finite scores for item ${row} (head "${head.name}"): its input values are too large for it`,
        );
      items[row][head.name] = predictionOf(head, probabilities);
    }
  }
  return items;
}
