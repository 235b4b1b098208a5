// Adapter for ONNX models: what scikit-learn (skl2onnx), XGBoost and LightGBM (onnxmltools) pipelines
// export. The model runs in this process on ONNX Runtime's CPU build, which ships inside the npm package.
//
// How rows reach the graph, read from the graph's own input metadata:
//   - one input: a float tensor [rows, features] of the artifact's `features`, in that order (the shape
//     onnxmltools and `skl2onnx.to_onnx(model, X)` give);
//   - several inputs: one [rows, 1] tensor per input, each input named after a feature, typed as the graph
//     declares it (float or string) — what skl2onnx makes of a pipeline with a ColumnTransformer.
// A missing or non-numeric value goes in as NaN (a missing category as ""): the pipeline's own imputer
// (SimpleImputer, XGBoost's and LightGBM's missing-value handling) decides, as it did in training.
//
// What comes out: regression takes the first float output; a classifier its float [rows, classes] output
// (named "probabilities" when there are several), whose columns are the artifact's `classes` in the model's
// order (scikit-learn's `classes_`). The prediction is the most probable class, so prediction, confidence
// and probabilities always agree. Classifiers must be exported with `zipmap: False` (skl2onnx) — ONNX
// Runtime for Node reads tensors only, not the default sequence of maps.
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { FeatureRow, FeatureValue } from '../domain.ts';
import { ArtifactError, type ModelAdapter, type ModelOutput, type OnnxModelArtifact } from './types.ts';

type Input =
  | { name: string; kind: 'matrix'; features: string[] }
  | { name: string; kind: 'column'; feature: string; type: 'float32' | 'string' };

interface Plan {
  session: InferenceSession;
  inputs: Input[];
  output: string;
}

const asNumber = (value: FeatureValue | undefined): number => {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
};
const asString = (value: FeatureValue | undefined): string =>
  value === null || value === undefined ? '' : String(value);

function feature(row: FeatureRow, name: string): FeatureValue | undefined {
  return Object.hasOwn(row, name) ? row[name] : undefined;
}

async function plan(artifact: OnnxModelArtifact): Promise<Plan> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(Buffer.from(artifact.model, 'base64'));
  } catch (error) {
    throw new ArtifactError(`the ONNX model does not load: ${(error as Error).message}`);
  }
  const graphInputs = session.inputMetadata;
  const inputs: Input[] = [];
  if (graphInputs.length === 1) {
    const only = graphInputs[0]!;
    if (!only.isTensor || only.type !== 'float32') {
      throw new ArtifactError(`the model's one input "${only.name}" must be a float tensor [rows, features]`);
    }
    if (!artifact.features) {
      throw new ArtifactError(
        `the model has one input ("${only.name}"): give "features", the feature names in the order of its columns`,
      );
    }
    const width = only.shape[1];
    if (typeof width === 'number' && width !== artifact.features.length) {
      throw new ArtifactError(
        `the model's input "${only.name}" has ${width} columns, "features" names ${artifact.features.length}`,
      );
    }
    inputs.push({ name: only.name, kind: 'matrix', features: artifact.features });
  } else {
    for (const input of graphInputs) {
      if (!input.isTensor || (input.type !== 'float32' && input.type !== 'string')) {
        throw new ArtifactError(
          `the model's input "${input.name}" must be a float or string tensor [rows, 1]`,
        );
      }
      inputs.push({ name: input.name, kind: 'column', feature: input.name, type: input.type });
    }
  }

  const floats = session.outputMetadata.filter((o) => o.isTensor && o.type === 'float32');
  let output: string | undefined;
  if (artifact.task === 'regression') {
    output = floats[0]?.name;
    if (!output) throw new ArtifactError('a regression model needs a float output');
  } else {
    const wide = floats.filter((o) => o.isTensor && o.shape.length === 2 && o.shape[1] !== 1);
    output = (wide.find((o) => o.name === 'probabilities') ?? (wide.length === 1 ? wide[0] : undefined))
      ?.name;
    if (!output) {
      const names = session.outputMetadata.map((o) => `${o.name} (${o.isTensor ? o.type : 'not a tensor'})`);
      throw new ArtifactError(
        `a classifier needs a float [rows, classes] probability output (export with zipmap: False); the model has ${names.join(', ')}`,
      );
    }
  }
  return { session, inputs, output };
}

function feeds(inputs: Input[], rows: FeatureRow[]): Record<string, Tensor> {
  const result: Record<string, Tensor> = {};
  for (const input of inputs) {
    if (input.kind === 'matrix') {
      const data = new Float32Array(rows.length * input.features.length);
      rows.forEach((row, r) => {
        input.features.forEach((name, c) => {
          data[r * input.features.length + c] = asNumber(feature(row, name));
        });
      });
      result[input.name] = new Tensor('float32', data, [rows.length, input.features.length]);
    } else if (input.type === 'string') {
      result[input.name] = new Tensor(
        'string',
        rows.map((row) => asString(feature(row, input.feature))),
        [rows.length, 1],
      );
    } else {
      result[input.name] = new Tensor(
        'float32',
        Float32Array.from(rows, (row) => asNumber(feature(row, input.feature))),
        [rows.length, 1],
      );
    }
  }
  return result;
}

function outputsOf(artifact: OnnxModelArtifact, values: Float32Array, rows: number): ModelOutput[] {
  if (artifact.task === 'regression') {
    if (values.length !== rows) throw new Error(`the model gave ${values.length} values for ${rows} rows`);
    return Array.from(values, (v) => ({ prediction: v, confidence: null }));
  }
  const classes = artifact.classes!;
  if (values.length !== rows * classes.length) {
    throw new ArtifactError(
      `the model gives ${values.length / rows} probabilities a row; the artifact names ${classes.length} classes`,
    );
  }
  return Array.from({ length: rows }, (_, r) => {
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < classes.length; c++) {
      const p = values[r * classes.length + c]!;
      probabilities[classes[c]!] = p;
      if (p > values[r * classes.length + best]!) best = c;
    }
    return { prediction: classes[best]!, confidence: values[r * classes.length + best]!, probabilities };
  });
}

export function loadOnnxModel(artifact: OnnxModelArtifact): ModelAdapter {
  // The session loads once, on first use; a model that does not load fails every call the same way.
  let planned: Promise<Plan> | null = null;
  return {
    async predict(rows) {
      planned ??= plan(artifact);
      const { session, inputs, output } = await planned;
      const result = await session.run(feeds(inputs, rows), [output]);
      return outputsOf(artifact, result[output]!.data as Float32Array, rows.length);
    },
  };
}
