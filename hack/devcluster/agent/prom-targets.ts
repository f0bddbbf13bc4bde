// Keeps Prometheus's file_sd targets file in step with the pods (written atomically, and only
// when the content changes, so Prometheus reloads only on real changes).
import type { Informer } from './informer.js';
import { DerivedFileWriter } from './derived-file.js';
import { podTargetGroups } from '../prometheus/config.js';

export class PromTargetsWriter extends DerivedFileWriter {
  constructor(pods: Informer, file: string, log: (m: string) => void) {
    super(pods, file, (all) => JSON.stringify(podTargetGroups(all), null, 2) + '\n', log, 50);
  }
}
