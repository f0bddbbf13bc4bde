// Checking modelship.json against the ONNX graph's real inputs and outputs. A pure function
// over graph metadata, so it is testable without a model.
import type { Signature } from './schema.js';

/** The parts of onnxruntime's ValueMetadata the check needs. */
export interface GraphValue {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

function dimsMismatch(actual: ReadonlyArray<number | string>, expected: Array<number | null>): boolean {
  if (actual.length !== expected.length) return true;
  // Symbolic (string) or unknown (-1/0) graph dims match anything; fixed dims must agree.
  return expected.some((want, i) => want !== null && typeof actual[i] === 'number' && (actual[i] as number) > 0 && actual[i] !== want);
}

function showShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

/** Every way modelship.json disagrees with the graph; empty when they match. */
export function compareSignatureWithGraph(sig: Signature, inputs: GraphValue[], outputs: GraphValue[]): string[] {
  const problems: string[] = [];
  const input = sig.input;
  const graphInput = inputs.find((v) => v.name === input.tensor);
  if (!graphInput) {
    problems.push(`input.tensor "${input.tensor}" is not a graph input (graph inputs: ${inputs.map((v) => v.name).join(', ') || 'none'})`);
  } else if (!graphInput.isTensor || graphInput.type !== 'float32') {
    problems.push(`input.tensor "${input.tensor}" has dtype ${graphInput.type ?? 'non-tensor'} in the graph, signature says float32`);
  } else if (graphInput.shape) {
    const expected = input.kind === 'image'
      ? input.layout === 'NCHW' ? [null, input.channels, input.height, input.width] : [null, input.height, input.width, input.channels]
      : [null, input.features.length];
    if (dimsMismatch(graphInput.shape, expected)) {
      problems.push(`input.tensor "${input.tensor}" has shape ${showShape(graphInput.shape)} in the graph, signature implies ${showShape(expected.map((d) => d ?? 'N'))}`);
    }
  }
  for (const extra of inputs.filter((v) => v.name !== input.tensor)) {
    problems.push(`graph input "${extra.name}" is not fed by the signature`);
  }
  sig.heads.forEach((head, i) => {
    const out = outputs.find((v) => v.name === head.tensor);
    if (!out) {
      problems.push(`heads.${i}.tensor "${head.tensor}" is not a graph output (graph outputs: ${outputs.map((v) => v.name).join(', ') || 'none'})`);
      return;
    }
    if (!out.isTensor || out.type !== 'float32') {
      problems.push(`heads.${i}.tensor "${head.tensor}" has dtype ${out.type ?? 'non-tensor'} in the graph, expected float32`);
      return;
    }
    if (!out.shape) return;
    const width = out.shape[1];
    const allowed = head.type === 'binary' && head.activation !== 'softmax' ? [1, 2] : [head.labels.length];
    if (out.shape.length !== 2) {
      problems.push(`heads.${i}.tensor "${head.tensor}" has rank ${out.shape.length} in the graph, expected 2 ([N, classes])`);
    } else if (typeof width === 'number' && width > 0 && !allowed.includes(width)) {
      problems.push(`heads.${i}.tensor "${head.tensor}" has ${width} columns in the graph, expected ${allowed.join(' or ')} for ${head.labels.length} labels`);
    } else if (head.activation === 'sigmoid' && width === 2) {
      problems.push(`heads.${i}.activation sigmoid needs a [N, 1] output; "${head.tensor}" has 2 columns (use softmax or none)`);
    }
  });
  return problems;
}
