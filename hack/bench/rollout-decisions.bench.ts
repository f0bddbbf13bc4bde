// Rollout decisions at the CRD defaults and at two other settings, by simulation: canaries
// better, equal and worse than stable by several effect sizes, at several labelled request
// rates, each analysed every interval by the production checks and state machine
// (hack/simulate/rollout.ts). Prints the table operator/analysis/README.md quotes.
// SIM_RUNS=N canaries per cell (default 200); SIM_SEED=N.
import { errorsOf, runCell, type Cell, type Setting } from '../simulate/table.js';
import { serviceWith, type Scenario } from '../simulate/rollout.js';

const runs = Number(process.env.SIM_RUNS ?? 200);
const seed = Number(process.env.SIM_SEED ?? 1);
const defaults = serviceWith().spec.canary;

const SETTINGS: Array<Setting & { rates: number[] }> = [
  { name: 'defaults', canary: {}, margin: defaults.checks.accuracy.maxDropVsStable, rates: [5, 20, 50] },
  {
    name: 'margin 0.02, deadline 2h',
    canary: { progressDeadline: '2h', checks: { accuracy: { maxDropVsStable: 0.02 } } },
    margin: 0.02,
    rates: [20, 50],
  },
  {
    name: 'steps 10/25/50, 99 %',
    canary: { steps: [10, 25, 50], checks: { accuracy: { confidence: 0.99 } } },
    margin: defaults.checks.accuracy.maxDropVsStable,
    rates: [20],
  },
];

function scenarios(margin: number, rps: number): Scenario[] {
  const effects: Array<[number, Scenario['heads']]> = [
    [0.02, 'all'],
    [0, 'all'],
    [-margin / 2, 'all'],
    [-(margin + 0.03), 'one'],
    [-(margin + 0.03), 'all'],
    [-0.4, 'all'],
  ];
  return effects.map(([effect, heads]) => ({ effect: Number(effect.toFixed(3)), heads, rps }));
}

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

console.log(
  `# ${runs} canaries per row, seed ${seed}; CRD defaults: steps ${JSON.stringify(defaults.steps)}, interval ${defaults.interval}, ` +
    `deadline ${defaults.progressDeadline}, margin ${defaults.checks.accuracy.maxDropVsStable}, confidence ${defaults.checks.accuracy.confidence}, ` +
    `minFeedback ${defaults.minFeedback}, minRequests ${defaults.minRequests}, drift max ${defaults.checks.drift.max}`,
);
console.log(
  row([
    'setting',
    'labelled req/s',
    'canary vs stable',
    'promoted',
    'rolled back: failed',
    'rolled back: deadline',
    'drift failed',
    'median min',
    'p95 min',
  ]),
);
console.log(row(new Array(9).fill('---')));
const started = Date.now();
const summary: string[] = [];
for (const setting of SETTINGS) {
  const cells: Cell[] = [];
  for (const rps of setting.rates) {
    for (const scenario of scenarios(setting.margin, rps)) {
      const c = runCell(setting, scenario, runs, seed);
      cells.push(c);
      const effect = `${c.scenario.effect >= 0 ? '+' : ''}${c.scenario.effect}${c.scenario.heads === 'one' ? ' (one head)' : ''}`;
      console.log(
        row([
          setting.name,
          String(rps),
          effect,
          pct(c.promoted, runs),
          pct(c.failed, runs),
          pct(c.deadline, runs),
          pct(c.driftFailures, runs),
          c.medianMinutes.toFixed(0),
          c.p95Minutes.toFixed(0),
        ]),
      );
    }
  }
  const worst = (key: 'falsePromotions' | 'falseRollbacks', rps?: number) =>
    Math.max(
      0,
      ...cells
        .filter((c) => rps === undefined || c.scenario.rps === rps)
        .map((c) => errorsOf(c, setting.margin)[key] ?? 0),
    );
  summary.push(
    `${setting.name}: false promotions (worse than the margin ${setting.margin}) ≤ ${(100 * worst('falsePromotions')).toFixed(1)} %; ` +
      `false rollbacks (equal or better) ≤ ${(100 * worst('falseRollbacks', 20)).toFixed(1)} % at 20 req/s, ${(100 * worst('falseRollbacks')).toFixed(1)} % at any rate`,
  );
}
// Drift false alarms need more canaries to resolve 1 %: equal models on fresh traffic only.
const driftRuns = runs * 5;
const equal = runCell(SETTINGS[0], { effect: 0, heads: 'all', rps: 20 }, driftRuns, seed + 1_000_000);
summary.push(
  `input-drift false alarms at the defaults (equal model, fresh traffic, 20 req/s, any analysis): ${equal.driftFailures} of ${driftRuns} canaries (${pct(equal.driftFailures, driftRuns)})`,
);
console.log(`\n${summary.join('\n')}\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
