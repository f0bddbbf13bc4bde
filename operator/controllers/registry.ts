// The controllers `operator/main.ts` starts. Each controller module adds itself here; the
// options carry what the command line configures for controllers.
import type { Registry } from 'prom-client';
import type { WorkloadDefaults } from '../api/index.js';
import type { Controller } from '../runtime/controller.js';
import { inferenceServiceController } from './inferenceservice/controller.js';
import { DEFAULT_SERVING_IMAGE } from './common/images.js';
import { modelVersionController } from './modelversion/controller.js';
import { trainingRunController } from './trainingrun/controller.js';
import type { TrainingRunAllowlist } from './trainingrun/allowlist.js';

export interface ControllerOptions {
  /** Namespaces watched (empty: all). */
  namespaces: string[];
  /** Default Prometheus address for analysis (--prometheus-url). */
  prometheusUrl?: string;
  /** Further addresses spec.prometheus.address may name (--prometheus-allowed-url). */
  prometheusAllowedUrls?: string[];
  /** Image of validation Jobs (default: env MODELSHIP_SERVING_IMAGE, else modelship/serving:0.1.0). */
  servingImage?: string;
  /** prometheus.io annotations on serving and router pods (default true; off where PodMonitors scrape them). */
  scrapeAnnotations?: boolean;
  /** Registry of the operator's /metrics, for training, rollout and analysis metrics. */
  registry?: Registry;
  /** Pod placement every created pod starts from (--workload-defaults); built-in defaults when unset. */
  workloadDefaults?: WorkloadDefaults;
  /** What TrainingRuns may name (--trainingrun-allowed-*); nothing when unset. */
  trainingRunAllowlist?: TrainingRunAllowlist;
}

export function buildControllers(options: ControllerOptions): Controller[] {
  const servingImage = options.servingImage ?? process.env.MODELSHIP_SERVING_IMAGE ?? DEFAULT_SERVING_IMAGE;
  return [
    trainingRunController({
      registry: options.registry,
      workloadDefaults: options.workloadDefaults,
      servingImage,
      allowlist: options.trainingRunAllowlist,
    }),
    modelVersionController({ servingImage, workloadDefaults: options.workloadDefaults }),
    inferenceServiceController({
      servingImage,
      prometheusUrl: options.prometheusUrl,
      prometheusAllowedUrls: options.prometheusAllowedUrls,
      registry: options.registry,
      workloadDefaults: options.workloadDefaults,
      scrapeAnnotations: options.scrapeAnnotations,
    }),
  ];
}
