// The I/O steps of registering a succeeded run as a ModelVersion (register.ts has the pure
// parts and the protocol): record the state, draw a name, create the version or adopt our own.
import {
  modelVersionName,
  parseModelVersionName,
  type ModelVersion,
  type TrainingRun,
  type TrainingRunStatusRegistrationGate,
} from '../../api/index.js';
import { ignoreNotFound, isAlreadyExists } from '../../runtime/errors.js';
import { Kinds } from '../../runtime/kinds.js';
import type { Job } from '../common/k8s.js';
import type { RunContext } from './controller.js';
import { describeFailedGates, evaluateGates } from './gates.js';
import { lineageFromJob, lineageOf, type Lineage } from './job.js';
import { buildModelVersion, registeredBy } from './register.js';
import { withRegistration, type RegistrationState } from './status.js';
import { writeStatus } from './write-status.js';

const MAX_REGISTRATION_ATTEMPTS = 20;

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

/**
 * A registration in progress. `run` is the run as last written: the name is recorded on it
 * before the ModelVersion is created, and later writes start from that answer. The generation
 * recorded with each state is that of the run the registration started from.
 */
interface Registration {
  run: TrainingRun;
  readonly rc: RunContext;
  readonly ns: string;
  readonly generation: number | undefined;
}

function recordRegistration(reg: Registration, state: RegistrationState): Promise<TrainingRun> {
  return writeStatus(
    reg.run,
    (r) => {
      // Never replace a name an earlier attempt recorded with another one: retry from the stored state.
      if (state.kind === 'registering' && r.status?.modelVersion && r.status.modelVersion !== state.name) {
        throw new RegistrationError(`run already records ModelVersion ${r.status.modelVersion}; retrying with it`);
      }
      return withRegistration(r.status ?? {}, state, reg.generation, reg.rc.now);
    },
    reg.rc.kube,
  );
}

export async function register(
  run: TrainingRun,
  job: Job | undefined,
  rc: RunContext,
  fresh: boolean,
): Promise<TrainingRun> {
  const status = run.status ?? {};
  const reg: Registration = { run, rc, ns: run.metadata.namespace ?? '', generation: run.metadata.generation };
  if (run.spec.registration?.enabled === false) return recordRegistration(reg, { kind: 'disabled' });
  const gates = evaluateGates(run.spec.registration?.gates, status.metrics ?? {});
  if (gates.some((g) => !g.passed))
    return recordRegistration(reg, { kind: 'gatesFailed', gates, message: describeFailedGates(gates) });
  if (!status.artifact?.uri) throw new RegistrationError('succeeded run has no artifact in its status');
  const lineage = lineageFromJob(job) ?? lineageOf(run);
  // The name an earlier attempt recorded (Registering). The cache may lag behind that write, so
  // a run read from the cache without one is read from the API server before a new number is
  // drawn (not needed when this reconcile just wrote the status and holds the server's answer).
  const name =
    status.modelVersion ??
    (fresh
      ? undefined
      : (await rc.kube.client.get<TrainingRun>(Kinds.TrainingRun, reg.ns, run.metadata.name ?? '')).status
          ?.modelVersion);
  const artifact = { uri: status.artifact.uri, digest: status.artifact.digest };
  return registerVersion(reg, { gates, lineage, artifact, metrics: status.metrics ?? {}, name });
}

/** What the ModelVersion records, from the status of the run the registration started from. */
interface VersionToRegister {
  gates: TrainingRunStatusRegistrationGate[];
  lineage: Lineage;
  artifact: { uri: string; digest?: string };
  metrics: Record<string, number>;
  /** The recorded name to create, if any; a new one is drawn when it turns out taken. */
  name: string | undefined;
}

/** Creates the run's ModelVersion under the recorded name, or under a newly drawn one while names are taken. */
async function registerVersion(reg: Registration, want: VersionToRegister): Promise<TrainingRun> {
  const { allocator } = reg.rc.deps;
  const { gates, lineage, artifact, metrics } = want;
  let recorded = want.name;
  for (let attempt = 0; attempt < MAX_REGISTRATION_ATTEMPTS; attempt++) {
    const name = recorded ?? (await drawName(reg, gates));
    const version = parseModelVersionName(name)?.version;
    if (!version) throw new RegistrationError(`recorded ModelVersion name ${name} does not follow <model>-v<N>`);
    const mv = buildModelVersion({ run: reg.run, version, lineage, artifact, metrics });
    if (await createOrAdopt(reg, mv, name)) return recordRegistration(reg, { kind: 'registered', gates, name });
    allocator.taken(reg.ns, reg.run.spec.model, version);
    recorded = undefined; // another run's version holds the name: draw a new one
  }
  throw new RegistrationError(
    `no free version of model ${reg.run.spec.model} after ${MAX_REGISTRATION_ATTEMPTS} attempts`,
  );
}

/** Draws the next free version number and records its name before creating, so that a restart continues with it instead of registering again. */
async function drawName(reg: Registration, gates: TrainingRunStatusRegistrationGate[]): Promise<string> {
  const { allocator } = reg.rc.deps;
  const seen = reg.rc.kube.cache.list<ModelVersion>(Kinds.ModelVersion, reg.ns).map((mv) => mv.metadata.name ?? '');
  const drawn = allocator.next(reg.ns, reg.run.spec.model, seen);
  const name = modelVersionName(reg.run.spec.model, drawn);
  try {
    reg.run = await recordRegistration(reg, { kind: 'registering', gates, name });
  } catch (e) {
    allocator.giveBack(reg.ns, reg.run.spec.model, drawn); // not recorded: the next run takes the number
    throw e;
  }
  return name;
}

/** Creates the ModelVersion; false when its name is taken by another run's version (true when it is this run's own, from an earlier attempt). */
async function createOrAdopt(reg: Registration, mv: ModelVersion, name: string): Promise<boolean> {
  try {
    await reg.rc.kube.client.create(mv);
    return true;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const existing = await ignoreNotFound(reg.rc.kube.client.get<ModelVersion>(Kinds.ModelVersion, reg.ns, name));
    return registeredBy(existing, reg.run);
  }
}
