"""Training pipelines by name, fitted on Homeostat's rows and exported to ONNX as lib/models/onnx.ts serves it.

A training request is what the TypeScript retrain sends (activities/retrain.ts, `collectTrainingSet`):
the task ("binary", "multiclass" or "regression"), the feature schema (name and type of each feature),
the model's class labels, and index-aligned rows (feature name -> value) and labels.

The exported graph has one [rows, 1] input per feature, named after it: float for numeric and boolean
features, string for categorical ones. Missing values arrive as NaN (numeric) or "" (categorical), in
training as in serving, and the pipeline's own imputer or one-hot encoder handles them. Classifiers
output their probabilities as a plain [rows, classes] tensor named "probabilities" (zipmap off), whose
columns are the artifact's "classes".
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import onnxruntime
import skl2onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TASKS = ("binary", "multiclass", "regression")
#: ONNX opsets every converter here supports and onnxruntime-node runs.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
#: Share of training rows on which the ONNX graph must pick the same class as the fitted pipeline
#: (regression: be within 1e-3 relative). Float32 thresholds in the graph may flip a row that sits
#: exactly on a tree split; more than that means a conversion bug, and the candidate is refused.
MIN_ONNX_AGREEMENT = 0.99


class TrainingError(ValueError):
    """The request cannot be trained as asked (unknown pipeline, task, schema or labels)."""


@dataclass(frozen=True)
class Estimators:
    """A pipeline's final step for each kind of task, and whether it wants scaled numeric inputs."""

    classifier: Callable[[], Any]
    regressor: Callable[[], Any]
    scale: bool
    #: Registers the estimator's ONNX converter with skl2onnx (XGBoost and LightGBM come from onnxmltools).
    register: Callable[[], None] | None = None


def _register_xgboost() -> None:
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    update_registered_converter(
        XGBClassifier,
        "XGBoostXGBClassifier",
        calculate_linear_classifier_output_shapes,
        convert_xgboost,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes, convert_xgboost
    )


def _register_lightgbm() -> None:
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        LGBMRegressor, "LightGbmLGBMRegressor", calculate_linear_regressor_output_shapes, convert_lightgbm
    )


def _xgboost() -> Estimators:
    from xgboost import XGBClassifier, XGBRegressor

    return Estimators(
        classifier=lambda: XGBClassifier(n_estimators=100, max_depth=4, learning_rate=0.1, random_state=0),
        regressor=lambda: XGBRegressor(n_estimators=100, max_depth=4, learning_rate=0.1, random_state=0),
        scale=False,
        register=_register_xgboost,
    )


def _lightgbm() -> Estimators:
    from lightgbm import LGBMClassifier, LGBMRegressor

    return Estimators(
        classifier=lambda: LGBMClassifier(n_estimators=100, num_leaves=15, random_state=0, verbose=-1),
        regressor=lambda: LGBMRegressor(n_estimators=100, num_leaves=15, random_state=0, verbose=-1),
        scale=False,
        register=_register_lightgbm,
    )


#: Pipeline name -> its estimators, built on first use (an uninstalled library fails only its own pipeline).
PIPELINES: dict[str, Callable[[], Estimators]] = {
    "sklearn-logistic": lambda: Estimators(
        classifier=lambda: LogisticRegression(max_iter=1000),
        # A linear pipeline for regression too, so every pipeline serves every task.
        regressor=lambda: Ridge(alpha=1.0),
        scale=True,
    ),
    "sklearn-gradient-boosting": lambda: Estimators(
        classifier=lambda: GradientBoostingClassifier(random_state=0),
        regressor=lambda: GradientBoostingRegressor(random_state=0),
        scale=False,
    ),
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
}


def available_pipelines() -> dict[str, str | None]:
    """Pipeline name -> None when it can train here, else why not (its library is not installed)."""
    found: dict[str, str | None] = {}
    for name, make in PIPELINES.items():
        try:
            make()
            found[name] = None
        except ImportError as missing:
            found[name] = f"not installed: {missing}"
    return found


def _estimators(name: str) -> Estimators:
    make = PIPELINES.get(name)
    if make is None:
        raise TrainingError(f'unknown pipeline "{name}" (known: {", ".join(PIPELINES)})')
    try:
        return make()
    except ImportError as missing:
        raise TrainingError(f'pipeline "{name}" needs a library that is not installed: {missing}') from missing


def _is_categorical(spec: dict[str, Any]) -> bool:
    return spec["type"] == "categorical"


def _cell(spec: dict[str, Any], value: Any) -> Any:
    """A feature value as the ONNX graph receives it from lib/models/onnx.ts (NaN / "" when missing)."""
    if _is_categorical(spec):
        return "" if value is None else str(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip() != "":
        try:
            return float(value)
        except ValueError:
            return float("nan")
    return float("nan")


def frame(schema: list[dict[str, Any]], rows: list[dict[str, Any]]) -> np.ndarray:
    """Rows as an object matrix, one column per feature in schema order."""
    matrix = np.empty((len(rows), len(schema)), dtype=object)
    for r, row in enumerate(rows):
        for c, spec in enumerate(schema):
            matrix[r, c] = _cell(spec, row.get(spec["name"]))
    return matrix


def onnx_feeds(schema: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The graph's inputs for these rows, as onnxruntime takes them."""
    matrix = frame(schema, rows)
    return {
        spec["name"]: (
            matrix[:, c : c + 1].astype(str) if _is_categorical(spec) else matrix[:, c : c + 1].astype(np.float32)
        )
        for c, spec in enumerate(schema)
    }


def _build(estimators: Estimators, schema: list[dict[str, Any]], regression: bool) -> Pipeline:
    numeric = [i for i, spec in enumerate(schema) if not _is_categorical(spec)]
    categorical = [i for i, spec in enumerate(schema) if _is_categorical(spec)]
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if estimators.scale:
        numeric_steps.append(("scale", StandardScaler()))
    parts: list[tuple[str, Any, list[int]]] = []
    if numeric:
        parts.append(("numeric", Pipeline(numeric_steps), numeric))
    if categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical))
    model = estimators.regressor() if regression else estimators.classifier()
    return Pipeline([("prepare", ColumnTransformer(parts)), ("model", model)])


def _check_request(request: dict[str, Any]) -> None:
    task, schema, rows, labels = request["task"], request["schema"], request["rows"], request["labels"]
    if task not in TASKS:
        raise TrainingError(f'unknown task "{task}" (known: {", ".join(TASKS)})')
    if len(rows) != len(labels):
        raise TrainingError(f"{len(rows)} rows but {len(labels)} labels")
    if len(rows) < 2:
        raise TrainingError("at least two labelled rows are needed to train")
    if len(schema) == 1 and _is_categorical(schema[0]):
        # lib/models/onnx.ts reads a graph with one input as a float matrix.
        raise TrainingError("a model with a single feature needs it to be numeric")


def train(request: dict[str, Any]) -> dict[str, Any]:
    """Fits the named pipeline and returns the `onnx` model artifact and how the export was checked."""
    _check_request(request)
    estimators = _estimators(request["pipeline"])
    task, schema = request["task"], request["schema"]
    regression = task == "regression"
    x = frame(schema, request["rows"])
    if regression:
        y: np.ndarray = np.asarray(request["labels"], dtype=np.float64)
    else:
        # Class indices 0..k-1 over the classes present (XGBoost wants them contiguous), in the model's order.
        names = [str(label) for label in request["labels"]]
        order = [c for c in request.get("classes") or sorted(set(names)) if c in set(names)]
        unknown = sorted(set(names) - set(order))
        if unknown:
            raise TrainingError(f"labels that are not classes of the model: {', '.join(unknown)}")
        if len(order) < 2:
            raise TrainingError(f"every training label is {order[0]!r}: a classifier needs two classes")
        index = {c: i for i, c in enumerate(order)}
        y = np.asarray([index[n] for n in names], dtype=np.int64)
    pipeline = _build(estimators, schema, regression)
    pipeline.fit(x, y)

    if estimators.register:
        estimators.register()
    initial_types = [
        (spec["name"], StringTensorType([None, 1]) if _is_categorical(spec) else FloatTensorType([None, 1]))
        for spec in schema
    ]
    options = {} if regression else {id(pipeline.steps[-1][1]): {"zipmap": False}}
    graph = skl2onnx.convert_sklearn(pipeline, initial_types=initial_types, options=options, target_opset=TARGET_OPSET)
    model_bytes = graph.SerializeToString()

    artifact: dict[str, Any] = {
        "kind": "onnx",
        "task": task,
        "model": base64.b64encode(model_bytes).decode("ascii"),
        "features": [spec["name"] for spec in schema],
    }
    if not regression:
        artifact["classes"] = [order[int(i)] for i in pipeline.classes_]
    agreement = _agreement(pipeline, model_bytes, schema, request["rows"], x, regression)
    if agreement < MIN_ONNX_AGREEMENT:
        raise TrainingError(
            f"the ONNX export agrees with the fitted pipeline on only {agreement:.3f} of the training rows"
        )
    return {
        "artifact": artifact,
        "pipeline": request["pipeline"],
        "trainRows": len(request["rows"]),
        "onnxAgreement": agreement,
    }


def _agreement(
    pipeline: Pipeline,
    model_bytes: bytes,
    schema: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    x: np.ndarray,
    regression: bool,
) -> float:
    """Share of rows where the ONNX graph answers as the fitted pipeline does."""
    outputs = predict_onnx(model_bytes, schema, rows, regression)
    if regression:
        expected = pipeline.predict(x)
        close = np.abs(outputs - expected) <= 1e-3 * np.maximum(1.0, np.abs(expected))
        return float(close.mean())
    return float((outputs.argmax(axis=1) == pipeline.predict_proba(x).argmax(axis=1)).mean())


def predict_onnx(
    model_bytes: bytes, schema: list[dict[str, Any]], rows: list[dict[str, Any]], regression: bool
) -> np.ndarray:
    """Regression: one value per row. Classifiers: the [rows, classes] probabilities."""
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    wanted = [o.name for o in session.get_outputs()]
    name = wanted[0] if regression else ("probabilities" if "probabilities" in wanted else wanted[-1])
    (values,) = session.run([name], onnx_feeds(schema, rows))
    return np.asarray(values, dtype=np.float64).reshape(len(rows), -1)[:, 0] if regression else np.asarray(values)


def evaluate(request: dict[str, Any]) -> dict[str, Any]:
    """Scores an `onnx` artifact on labelled rows: accuracy for classifiers, RMSE for regression."""
    artifact, schema, rows, labels = request["artifact"], request["schema"], request["rows"], request["labels"]
    if len(rows) != len(labels) or not rows:
        raise TrainingError(f"{len(rows)} rows and {len(labels)} labels: need as many of each, at least one")
    regression = artifact["task"] == "regression"
    outputs = predict_onnx(base64.b64decode(artifact["model"]), schema, rows, regression)
    if regression:
        errors = outputs - np.asarray(labels, dtype=np.float64)
        return {"metric": "rmse", "value": float(np.sqrt(np.mean(errors**2))), "rows": len(rows)}
    predicted = [artifact["classes"][i] for i in outputs.argmax(axis=1)]
    correct = sum(p == str(label) for p, label in zip(predicted, labels))
    return {"metric": "accuracy", "value": correct / len(rows), "rows": len(rows)}
