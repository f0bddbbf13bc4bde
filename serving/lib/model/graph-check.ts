// Checking modelship.json against the ONNX graph's real inputs and outputs. A pure function
// over graph metadata, so it is testable without a model.
import type { Head, Signature } from './schema.js';

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
  return expected.some(
    (want, i) => want !== null && typeof actual[i] === 'number' && (actual[i] as number) > 0 && actual[i] !== want,
  );
}

function showShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

function inputProblems(input: Signature['input'], inputs: GraphValue[]): string[] {
  const graphInput = inputs.find((v) => v.name === input.tensor);
  const problems: string[] = [];
  if (!graphInput) {
    problems.push(
      `input.tensor "${input.tensor}" is not a graph input (graph inputs: ${inputs.map((v) => v.name).join(', ') || 'none'})`,
    );
  } else if (!graphInput.isTensor || graphInput.type !== 'float32') {
    problems.push(
      `input.tensor "${input.tensor}" has dtype ${graphInput.type ?? 'non-tensor'} in the graph, signature says float32`,
    );
  } else if (graphInput.shape) {
    const expected =
      input.kind === 'image'
        ? input.layout === 'NCHW'
          ? [null, input.channels, input.height, input.width]
          : [null, input.height, input.width, input.channels]
        : [null, input.features.length];
    if (dimsMismatch(graphInput.shape, expected)) {
      problems.push(
        `input.tensor "${input.tensor}" has shape ${showShape(graphInput.shape)} in the graph, signature implies ${showShape(expected.map((d) => d ?? 'N'))}`,
      );
    }
  }
  for (const extra of inputs.filter((v) => v.name !== input.tensor)) {
    problems.push(`graph input "${extra.name}" is not fed by the signature`);
  }
  return problems;
}

/** At most one problem per head: the first thing about its output that does not fit. */
function headProblem(head: Head, i: number, outputs: GraphValue[]): string | undefined {
  const out = outputs.find((v) => v.name === head.tensor);
  if (!out)
    return `heads.${i}.tensor "${head.tensor}" is not a graph output (graph outputs: ${outputs.map((v) => v.name).join(', ') || 'none'})`;
  if (!out.isTensor || out.type !== 'float32')
    return `heads.${i}.tensor "${head.tensor}" has dtype ${out.type ?? 'non-tensor'} in the graph, expected float32`;
  if (!out.shape) return undefined;
  const width = out.shape[1];
  const allowed = head.type === 'binary' && head.activation !== 'softmax' ? [1, 2] : [head.labels.length];
  if (out.shape.length !== 2)
    return `heads.${i}.tensor "${head.tensor}" has rank ${out.shape.length} in the graph, expected 2 ([N, classes])`;
  if (typeof width === 'number' && width > 0 && !allowed.includes(width)) {
    return `heads.${i}.tensor "${head.tensor}" has ${width} columns in the graph, expected ${allowed.join(' or ')} for ${head.labels.length} labels`;
  }
  if (head.activation === 'sigmoid' && width === 2)
    return `heads.${i}.activation sigmoid needs a [N, 1] output; "${head.tensor}" has 2 columns (use softmax or none)`;
  return undefined;
}

/** Every way modelship.json disagrees with the graph; empty when they match. */
export function compareSignatureWithGraph(sig: Signature, inputs: GraphValue[], outputs: GraphValue[]): string[] {
  const problems = inputProblems(sig.input, inputs);
  sig.heads.forEach((head, i) => {
    const problem = headProblem(head, i, outputs);
    if (problem) problems.push(problem);
  });
  return problems;
}
