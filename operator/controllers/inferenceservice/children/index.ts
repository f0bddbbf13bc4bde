// Step 5 of a reconcile: one small reconciler per child kind, in order — the feedback key before
// the pods that read it, autoscalers before the Deployments (see autoscalers.ts), the traffic
// objects after the pods they route to. Then what the status records elsewhere: the retraining
// run and ModelVersion.status.servedBy, kept even while the spec cannot be served.
import type { RolloutContext } from '../context.js';
import type { Decision } from '../decide.js';
import { reconcileAutoscalers } from './autoscalers.js';
import { reconcileDeployments } from './deployments.js';
import { reconcileFeedbackSecret } from './feedback-secret.js';
import { reconcileRetrainRun } from './retrain-run.js';
import { reconcileRoleServices } from './role-services.js';
import { reconcileServedBy } from './served-by.js';
import { reconcileTraffic } from './traffic.js';

export { contains } from './apply.js';

type ChildReconciler = (ctx: RolloutContext, decision: Decision) => Promise<void>;

/** The serving topology: nothing of it is built for a spec that cannot be served. */
export const SERVING_CHILDREN: readonly ChildReconciler[] = [
  (ctx) => reconcileFeedbackSecret(ctx),
  (ctx) => reconcileRoleServices(ctx),
  (ctx, d) => reconcileAutoscalers(ctx, d.status),
  (ctx, d) => reconcileDeployments(ctx, d.status),
  (ctx, d) => reconcileTraffic(ctx, d.status),
];

export const RECORDED_CHILDREN: readonly ChildReconciler[] = [
  (ctx, d) => reconcileRetrainRun(ctx, d),
  (ctx, d) => reconcileServedBy(ctx, d.status),
];
