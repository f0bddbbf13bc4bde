// How many requests per second this machine could answer if a request cost only the model's
// own work as Modelship does it (decodeForModel with sharp, then one onnxruntime run), with
// no HTTP, metrics or tokens: the ceiling any server built on the same decoder stays under.
// vs-fastapi.bench.ts runs it in one process with the pod's libuv pool and, for comparison, in
// one process per core; it prints one JSON line.
// Usage: node --import tsx hack/bench/work-ceiling.ts <decode|decode+infer> <model dir> <seconds> <in flight> <image paths, ":"-separated>
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { Model } from '../../serving/lib/model/onnx-model.js';
import { decodeForModel } from '../../serving/lib/pipeline/image-decode.js';
import { prepareDecoded } from '../../serving/lib/pipeline/prepare.js';
import type { ImageInput } from '../../serving/lib/model/schema.js';

const [op, dir, seconds, inFlight, list] = process.argv.slice(2);
const images = list.split(':').map((p) => readFileSync(p));
const MAX_PIXELS = 40_000_000;

/** Completed operations per second with `loops` loops running `work` for `ms`. */
async function rate(work: (i: number) => Promise<unknown>, loops: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let done = 0;
  const loop = async (k: number) => {
    for (let i = k; Date.now() < end; i += loops) {
      await work(i);
      done++;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: loops }, (_, k) => loop(k)));
  return done / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main(): Promise<void> {
  if (op !== 'decode' && op !== 'decode+infer') throw new Error(`unknown op "${op}" (decode, decode+infer)`);
  sharp.cache(false); // as serve does
  const model = await Model.load(dir, { intraOpThreads: 1 });
  const input = model.signature.input as ImageInput;
  const decode = (i: number) => decodeForModel(images[i % images.length], input, MAX_PIXELS);
  const work =
    op === 'decode'
      ? decode
      : async (i: number) => {
          const batch = prepareDecoded(input, [await decode(i)]);
          return model.predict(batch.input, batch.dims);
        };
  await rate(work, Number(inFlight), 500); // warm-up
  console.log(JSON.stringify({ rate: await rate(work, Number(inFlight), Number(seconds) * 1000) }));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
