// Registration gates (pure): every min/max bound on the trainer's reported metrics, evaluated
// with the numbers kept so that a failure can say exactly which metric missed by how much.
import type { TrainingRunRegistrationGates, TrainingRunStatusRegistrationGate } from '../../api/index.js';

export function evaluateGates(
  gates: TrainingRunRegistrationGates | undefined,
  metrics: Record<string, number>,
): TrainingRunStatusRegistrationGate[] {
  const out: TrainingRunStatusRegistrationGate[] = [];
  const sorted = (m?: Record<string, number>) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [metric, threshold] of sorted(gates?.minMetrics)) {
    const value = metrics[metric];
    out.push({
      metric,
      bound: 'min',
      threshold,
      ...(value !== undefined ? { value } : {}),
      passed: value !== undefined && value >= threshold,
    });
  }
  for (const [metric, threshold] of sorted(gates?.maxMetrics)) {
    const value = metrics[metric];
    out.push({
      metric,
      bound: 'max',
      threshold,
      ...(value !== undefined ? { value } : {}),
      passed: value !== undefined && value <= threshold,
    });
  }
  return out;
}

/** "accuracy 0.62 is below the minimum 0.8; loss was not reported (maximum 0.5)". */
export function describeFailedGates(results: TrainingRunStatusRegistrationGate[]): string {
  return results
    .filter((g) => !g.passed)
    .map((g) => {
      const limit = g.bound === 'min' ? `minimum ${g.threshold}` : `maximum ${g.threshold}`;
      if (g.value === undefined) return `${g.metric} was not reported (${limit})`;
      return `${g.metric} ${g.value} is ${g.bound === 'min' ? 'below the' : 'above the'} ${limit}`;
    })
    .join('; ');
}
