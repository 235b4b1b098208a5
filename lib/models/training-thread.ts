// Trains a built-in model off the event loop. Fitting an mljs model is seconds of synchronous CPU: on the
// worker's main thread it would hold back every query and update the agents answer meanwhile (an
// operator's control would get 503 agent_unresponsive), and on the API's every prediction. So a built-in
// training runs in a worker thread of its own (training-thread-main.ts): one per process, started on
// first use, taking the trainings in the order they come, and unref'd while idle so that it never keeps
// a process alive. An external trainer runs its command or webhook in the caller: it waits on I/O, not
// on the CPU.
import { Worker } from 'node:worker_threads';
import type { FeatureSchema, Task } from '../domain.ts';
import { type TrainerKind, type TrainerOptions, trainModel } from './index.ts';
import type { ModelArtifact, TrainingSet } from './types.ts';

/** What the thread is sent for one training. */
export interface TrainingRequest {
  id: number;
  kind: Exclude<TrainerKind, 'external'>;
  task: Task;
  schema: FeatureSchema;
  data: TrainingSet;
  options: unknown;
}

/** What the thread answers: the artifact, or the training's error message. */
export type TrainingReply =
  | { id: number; artifact: ModelArtifact }
  | { id: number; error: { name: string; message: string } };

let thread: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (a: ModelArtifact) => void; reject: (e: Error) => void }>();

function trainingThread(): Worker {
  if (thread) return thread;
  // Loader hooks do not reach a worker thread on Node 20 (node --import tsx stays on the main thread):
  // the thread registers tsx itself, then loads its TypeScript.
  const main = new URL('./training-thread-main.ts', import.meta.url).href;
  // Resolved from here, not from the thread's working directory (a test runner may not offer resolve).
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  const started = new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(main)}); })`,
    { eval: true },
  );
  started.unref();
  started.on('message', (reply: TrainingReply) => {
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (pending.size === 0) started.unref();
    if ('artifact' in reply) waiting.resolve(reply.artifact);
    else waiting.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
  });
  // A thread that failed or stopped fails what it held; the next training starts a new one.
  const fail = (error: Error) => {
    if (thread === started) thread = null;
    for (const [id, waiting] of pending) {
      pending.delete(id);
      waiting.reject(error);
    }
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`the training thread stopped (exit code ${code})`)));
  thread = started;
  return started;
}

/** trainModel (index.ts), in the training thread for a built-in kind; an external trainer runs here. */
export function trainModelInThread<K extends TrainerKind>(
  kind: K,
  task: Task,
  schema: FeatureSchema,
  data: TrainingSet,
  options?: TrainerOptions[K],
): Promise<ModelArtifact> {
  if (kind === 'external') return trainModel(kind, task, schema, data, options);
  const worker = trainingThread();
  const id = nextId++;
  const request: TrainingRequest = {
    id,
    kind: kind as TrainingRequest['kind'],
    task,
    schema,
    data,
    options: options ?? {},
  };
  return new Promise<ModelArtifact>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    // Referenced while it trains: a caller awaiting the artifact keeps the process alive.
    worker.ref();
    worker.postMessage(request);
  });
}
