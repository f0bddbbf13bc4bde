// How many libuv pool threads a serving container gets (UV_THREADPOOL_SIZE). sharp decodes on
// that pool (onnxruntime-node runs on the event loop); libuv's default of 4 on a 2-core pod lets
// four decodes time-slice with each other and the event loop, so every request in flight
// finishes late: at half the peak rate on 2 cores, p99 fell from 19–33 ms with 4 threads to
// 10–17 ms with 2, at the same peak throughput (hack/bench/serving.bench.ts history). One thread
// per core the container may use, at least 2, so a 1-core pod still decodes while one decode waits on I/O.
import type { InferenceServiceResources } from '../../api/index.js';

const MIN_THREADS = 2;
const MAX_THREADS = 64;

/** Cores in a CPU quantity ("2", "500m", 1.5, "1e3m"); undefined when it cannot be read. */
export function cpuCores(quantity: number | string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number') return Number.isFinite(quantity) && quantity > 0 ? quantity : undefined;
  const m = /^\+?((?:\d+(?:\.\d*)?)|(?:\.\d+))(?:[eE]([+-]?\d+))?(m|k)?$/.exec(quantity.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * 10 ** Number(m[2] ?? 0) * (m[3] === 'm' ? 1e-3 : m[3] === 'k' ? 1e3 : 1);
  return value > 0 ? value : undefined;
}

/** UV_THREADPOOL_SIZE for a serving container: its CPU limit, else its request, in whole cores. */
export function servingThreadpoolSize(resources: InferenceServiceResources | undefined): number {
  const cores = cpuCores(resources?.limits?.cpu) ?? cpuCores(resources?.requests?.cpu) ?? MIN_THREADS;
  return Math.min(MAX_THREADS, Math.max(MIN_THREADS, Math.ceil(cores)));
}
