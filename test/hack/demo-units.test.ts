// The demo's pure pieces: flags, the progress printer, dev cluster output parsing, load
// generator judgements, the summary table and the timeline SVG.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ArgsError, parseArgs, parseSteps } from '../../hack/demo/args.js';
import { judge, versionNumber } from '../../hack/demo/loadgen.js';
import { parseDevClusterLine } from '../../hack/demo/processes.js';
import { Progress, formatElapsed } from '../../hack/demo/progress.js';
import { outcomeOf, renderSummary, renderTable, type VersionRow } from '../../hack/demo/summary.js';
import { mergeMarkers, renderTimelineSvg, toSeries, type Timeline } from '../../hack/demo/timeline.js';

test('flags: defaults, --no-wait, --steps always include step 1, errors name the flag', () => {
  const d = parseArgs([]);
  assert.equal(d.steps, [1, 2, 3, 4]);
  assert.is(d.wait, true);
  assert.is(d.dir, '.devcluster/demo');
  assert.is(
    d.svgOut,
    '.devcluster/demo/canary-timeline.svg',
    'the picture stays in the demo folder, out of the work tree',
  );
  assert.is(parseArgs(['--dir', 'run/']).svgOut, 'run/canary-timeline.svg');
  assert.is(
    parseArgs(['--svg', 'docs/images/canary-timeline.svg', '--dir', 'run']).svgOut,
    'docs/images/canary-timeline.svg',
  );
  const a = parseArgs(['--no-wait', '--steps', '2', '--dir=x', '--timeout-scale', '2', '--svg', '']);
  assert.equal(a.steps, [1, 2]);
  assert.is(a.wait, false);
  assert.is(a.dir, 'x');
  assert.is(a.timeoutScale, 2);
  assert.is(a.svgOut, '');
  assert.equal(parseSteps('4,2, 3'), [1, 2, 3, 4]);
  for (const [argv, msg] of [
    [['--steps', '5'], /"5" is not one of 1, 2, 3, 4/],
    [['--steps'], /--steps needs a value/],
    [['--timeout-scale', '0'], /positive/],
    [['--bogus'], /unknown argument --bogus/],
    [['--dir', ''], /--dir must not be empty/],
  ] as Array<[string[], RegExp]>) {
    assert.throws(
      () => parseArgs(argv),
      (e: Error) => e instanceof ArgsError && msg.test(e.message),
      argv.join(' '),
    );
  }
});

test('progress: numbered steps, elapsed times, hints and the environment printed once', () => {
  let t = 0;
  let out = '';
  const p = new Progress({
    write: (s) => {
      out += s;
    },
    now: () => t,
  });
  p.step(1, 'train');
  t = 65_000;
  p.done('trained');
  p.hint('kubectl get tr');
  p.environment('/k/kubeconfig', '/bin');
  p.environment('/k/kubeconfig', '/bin');
  assert.match(out, /== Step 1: train\n/);
  assert.match(out, /\[1:05\] ✓ trained \(\+1:05\)/);
  assert.match(out, /\$ kubectl get tr/);
  assert.is(out.split('export KUBECONFIG=/k/kubeconfig').length, 2, 'environment printed once');
  assert.is(formatElapsed(0), '0:00');
  assert.is(formatElapsed(600_400), '10:00');
});

test('dev cluster output: URLs and kubeconfig picked from its lines', () => {
  let info = {};
  for (const line of [
    'npm warn something',
    'devcluster: Prometheus http://127.0.0.1:4000',
    'devcluster: API server http://127.0.0.1:5000',
    'devcluster: kubeconfig /d/kubeconfig  (export KUBECONFIG=/d/kubeconfig)',
  ])
    info = parseDevClusterLine(info, line);
  assert.equal(info, {
    prometheusUrl: 'http://127.0.0.1:4000',
    apiUrl: 'http://127.0.0.1:5000',
    kubeconfig: '/d/kubeconfig',
  });
});

test('load generator: versions and per-head judgements', () => {
  assert.is(versionNumber('v3'), 3);
  assert.is(versionNumber('12'), 12);
  assert.is(versionNumber(2), 2);
  assert.is(versionNumber('latest'), undefined);
  assert.is(versionNumber(undefined), undefined);
  assert.equal(
    judge({ beard: { label: 'yes' }, glasses: { label: 'no' } }, { beard: 'yes', glasses: 'yes', hat: 'no' }),
    { correct: 1, judged: 2 },
  );
  assert.equal(judge(undefined, { beard: 'yes' }), { correct: 0, judged: 0 });
});

test('summary: one aligned row per version, sorted, missing values as -', () => {
  const rows: VersionRow[] = [
    {
      version: 2,
      trainingRun: 'wider',
      trigger: 'kubectl apply',
      offlineAccuracy: 0.86,
      liveAccuracy: 0.851,
      liveJudged: 900,
      drift: 0.02,
      outcome: 'Promoted',
      trainSeconds: 44.2,
      canarySeconds: 31,
    },
    { version: 1, trainingRun: 'face-attributes-cpu', trigger: 'kubectl apply', outcome: 'Serving (first version)' },
  ];
  const lines = renderSummary(rows).trimEnd().split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[0], /^VERSION\s+TRAINED BY\s+TRIGGER\s+OFFLINE ACC/);
  assert.match(
    lines[1],
    /^v1\s+face-attributes-cpu\s+kubectl apply\s+-\s+-\s+-\s+-\s+Serving \(first version\)\s+-\s+-$/,
  );
  assert.match(lines[2], /^v2\s+wider\s+kubectl apply\s+0\.860\s+-\s+0\.851 \(900\)\s+0\.020\s+Promoted\s+44s\s+31s$/);
  const col = lines[0].indexOf('TRIGGER');
  assert.is(lines[1].indexOf('kubectl apply'), col, 'columns aligned');
  assert.is(renderTable(['A', 'B'], [['long value', 'x']]), 'A            B\nlong value   x\n');
});

test('summary: each outcome with its real reason', () => {
  const check = (c: string, verdict: string, head?: string) => ({ check: c, verdict, head });
  const cases: Array<[string, Parameters<typeof outcomeOf>[0], string]> = [
    ['promoted', { outcome: 'Promoted', reason: 'AnalysisPassed' }, 'Promoted: every check passed'],
    [
      'rolled back on accuracy, per head',
      {
        outcome: 'RolledBack',
        reason: 'FailureLimitReached',
        steps: [
          {
            checks: [
              check('accuracyVsStable', 'Fail', 'a'),
              check('accuracyVsStable', 'Fail', 'b'),
              check('drift', 'Pass'),
            ],
          },
        ],
      },
      'RolledBack: accuracyVsStable (2 heads) failed',
    ],
    [
      'rolled back on errors and drift',
      {
        outcome: 'RolledBack',
        reason: 'FailureLimitReached',
        steps: [{ checks: [check('errorRate', 'Fail'), check('drift', 'Fail')] }],
      },
      'RolledBack: errorRate, drift failed',
    ],
    [
      'deadline, naming what stayed inconclusive',
      {
        outcome: 'RolledBack',
        reason: 'ProgressDeadlineExceeded',
        steps: [{ checks: [check('accuracyVsStable', 'Inconclusive', 'a')] }],
      },
      'RolledBack: progress deadline, still inconclusive: accuracyVsStable',
    ],
    [
      'rolled back in its shadow phase, naming the failed checks from the message',
      {
        outcome: 'RolledBack',
        reason: 'ShadowFailed',
        message:
          'shadow phase: failureLimit reached: accuracyVsStable/beard (canary): head beard: canary 0.41 …; agreement/beard (canary): …',
      },
      'RolledBack in its shadow phase, no user saw it: accuracyVsStable, agreement failed',
    ],
    ['aborted by hand', { outcome: 'Aborted', reason: 'ManualAbort' }, 'Aborted (ManualAbort)'],
  ];
  for (const [name, entry, want] of cases) assert.is(outcomeOf(entry), want, name);
});

test('timeline: Prometheus matrix → series per version (NaN dropped), SVG with both panels, legend and markers', () => {
  const series = toSeries({
    status: 'success',
    data: {
      result: [
        {
          metric: { version: '2' },
          values: [
            [100, '25'],
            [102, 'NaN'],
            [104, '50'],
          ],
        },
        {
          metric: { version: 'v1' },
          values: [
            [100, '75'],
            [104, '50'],
          ],
        },
        { metric: {}, values: [[100, '1']] },
      ],
    },
  });
  assert.equal(series, [
    {
      version: 1,
      points: [
        { t: 100_000, v: 75 },
        { t: 104_000, v: 50 },
      ],
    },
    {
      version: 2,
      points: [
        { t: 100_000, v: 25 },
        { t: 104_000, v: 50 },
      ],
    },
  ]);
  const tl: Timeline = {
    start: 100_000,
    end: 220_000,
    traffic: series,
    accuracy: [
      {
        version: 2,
        points: [
          { t: 100_000, v: 0.8 },
          { t: 104_000, v: 0.9 },
        ],
      },
    ],
    markers: [{ t: 160_000, label: 'v2 <Promoted>' }],
  };
  const svg = renderTimelineSvg(tl);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.is((svg.match(/<path /g) ?? []).length, 3, 'two traffic lines and one accuracy line');
  assert.match(svg, />v1<\/text>/);
  assert.match(svg, />v2<\/text>/);
  assert.match(svg, /v2 &lt;Promoted&gt;/, 'marker labels escaped');
  assert.match(svg, />2:00<\/text>/, 'minute ticks');
  // 75 % at t=start: y = top + height - 0.75*height = 56 + 45 = 101
  assert.match(svg, /M64\.0,101\.0/);
  assert.is(renderTimelineSvg(tl), svg, 'deterministic');
  assert.equal(
    mergeMarkers(
      [
        { t: 5_000, label: 'b' },
        { t: 0, label: 'a' },
        { t: 20_000, label: 'c' },
      ],
      10_000,
    ),
    [
      { t: 0, label: 'a, b' },
      { t: 20_000, label: 'c' },
    ],
  );
});

test.run();
