// The controllers `operator/main.ts` starts. Each controller module adds itself here; the
// options carry what the command line configures for controllers.
import type { Controller } from '../runtime/controller.js';

export interface ControllerOptions {
  /** Namespaces watched (empty: all). */
  namespaces: string[];
  /** Default Prometheus address for analysis (--prometheus-url). */
  prometheusUrl?: string;
}

export function buildControllers(_options: ControllerOptions): Controller[] {
  return [];
}
