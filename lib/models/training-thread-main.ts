// The training thread (training-thread.ts): trains what it is sent, one request after another, and answers
// each with the artifact or the training's error.
import { parentPort } from 'node:worker_threads';
import { trainModel } from './index.ts';
import type { TrainingReply, TrainingRequest } from './training-thread.ts';

const port = parentPort;
if (!port) throw new Error('training-thread-main.ts runs as a worker thread (lib/models/training-thread.ts)');
port.on('message', async (req: TrainingRequest) => {
  let reply: TrainingReply;
  try {
    reply = {
      id: req.id,
      artifact: await trainModel(req.kind, req.task, req.schema, req.data, req.options as never),
    };
  } catch (error) {
    const e = error as Error;
    reply = { id: req.id, error: { name: e.name ?? 'Error', message: e.message ?? String(error) } };
  }
  port.postMessage(reply);
});
