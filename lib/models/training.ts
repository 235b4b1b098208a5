// What the built-in models share: checking a training request, turning labels into what mljs trains on
// (class indices or numbers), and turning class probabilities back into labelled outputs.
import type { Task } from '../domain.ts';
import type { Label, ModelKind, ModelOutput, TrainingRequest } from './types.ts';

/** Returns the request's task once it is one that `kind` serves and the data can train it. */
export function checkRequest<T extends Task>(
  kind: ModelKind,
  tasks: readonly T[],
  request: TrainingRequest,
): T {
  const { task, data } = request;
  if (!(tasks as readonly Task[]).includes(task)) {
    throw new Error(`${kind} cannot be trained for a ${task} task`);
  }
  if (data.rows.length !== data.labels.length) {
    throw new Error(`training data has ${data.rows.length} rows but ${data.labels.length} labels`);
  }
  if (data.rows.length < 2) throw new Error(`${kind} needs at least 2 training rows`);
  return task as T;
}

/** Class labels as sorted strings, and each row's index into them. */
export function classIndices(task: Task, labels: readonly Label[]) {
  const names = labels.map(String);
  const classes = [...new Set(names)].sort();
  if (classes.length < 2) throw new Error(`training labels hold a single class (${classes[0]})`);
  if (task === 'binary' && classes.length > 2) {
    throw new Error(`a binary task needs 2 classes, the training labels hold ${classes.length}`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  return { classes, indices: names.map((name) => index.get(name)!) };
}

export function regressionTargets(labels: readonly Label[]): number[] {
  const bad = labels.findIndex((y) => typeof y !== 'number' || !Number.isFinite(y));
  if (bad >= 0) {
    throw new Error(`regression label ${bad} is not a finite number: ${JSON.stringify(labels[bad])}`);
  }
  return labels as number[];
}

/**
 * One output per row of class scores: scores are normalised to probabilities, the prediction is the most
 * probable class (the first one on a tie) and the confidence is its probability.
 */
export function classifierOutputs(classes: readonly string[], scores: number[][]): ModelOutput[] {
  return scores.map((row) => {
    const total = row.reduce((sum, s) => sum + s, 0);
    // All-zero scores carry no preference; uniform is the honest answer.
    const p = row.map((s) => (total > 0 ? s / total : 1 / row.length));
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
    return {
      prediction: classes[best]!,
      confidence: p[best]!,
      probabilities: Object.fromEntries(classes.map((c, i) => [c, p[i]!])),
    };
  });
}

/** A trained mljs model as plain JSON (arrays, not ml-matrix instances), the form artifacts store. */
export function modelJson<Json>(model: unknown): Json {
  return JSON.parse(JSON.stringify(model));
}
