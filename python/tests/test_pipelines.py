"""Every pipeline trains on rows shaped as Homeostat sends them, exports to ONNX, and the export answers
as the fitted model does; evaluation scores it; bad requests fail with a precise TrainingError."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from homeostat_trainer import pipelines
from homeostat_trainer.pipelines import TrainingError, available_pipelines, evaluate, predict_onnx, train

SCHEMA = [
    {"name": "income", "type": "numeric"},
    {"name": "debt_ratio", "type": "numeric"},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
    {"name": "owner", "type": "boolean"},
]


def credit_rows(n: int, seed: int, flipped: bool = False) -> tuple[list[dict], list[str]]:
    """Default depends on debt ratio and region; `flipped` is the concept drift (the relation reverses)."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for i in range(n):
        debt = float(rng.uniform(0, 1))
        region = str(rng.choice(["north", "south"]))
        risky = (debt > 0.5) != (region == "south")
        rows.append(
            {
                "income": None if i % 17 == 0 else float(rng.normal(50_000, 15_000)),
                "debt_ratio": debt,
                "region": region,
                "owner": bool(rng.uniform() < 0.5),
            }
        )
        labels.append(str(int(risky != flipped)))
    return rows, labels


INSTALLED = [name for name, missing in available_pipelines().items() if missing is None]


@pytest.mark.parametrize("pipeline", INSTALLED)
def test_classifier_pipelines_learn_the_relation_and_export_faithfully(pipeline: str) -> None:
    rows, labels = credit_rows(400, seed=1)
    trained = train(
        {"pipeline": pipeline, "task": "binary", "schema": SCHEMA, "classes": ["0", "1"], "rows": rows, "labels": labels}
    )
    artifact = trained["artifact"]
    assert artifact["kind"] == "onnx" and artifact["task"] == "binary"
    assert sorted(artifact["classes"]) == ["0", "1"]
    assert artifact["features"] == [s["name"] for s in SCHEMA]
    assert trained["onnxAgreement"] >= pipelines.MIN_ONNX_AGREEMENT
    holdout, truth = credit_rows(200, seed=2)
    scored = evaluate({"artifact": artifact, "schema": SCHEMA, "rows": holdout, "labels": truth})
    assert scored["metric"] == "accuracy" and scored["rows"] == 200
    # The interaction of region and debt is learnable by the trees; the linear pipeline cannot express it.
    assert scored["value"] > (0.4 if pipeline == "sklearn-logistic" else 0.9)


@pytest.mark.parametrize("pipeline", INSTALLED)
def test_regressors_export_with_one_value_per_row(pipeline: str) -> None:
    rng = np.random.default_rng(3)
    rows = [{"income": float(rng.normal(50, 10)), "debt_ratio": float(rng.uniform()), "region": "north", "owner": False} for _ in range(300)]
    labels = [2 * r["income"] - 10 * r["debt_ratio"] for r in rows]
    trained = train({"pipeline": pipeline, "task": "regression", "schema": SCHEMA, "rows": rows, "labels": labels})
    assert "classes" not in trained["artifact"]
    scored = evaluate({"artifact": trained["artifact"], "schema": SCHEMA, "rows": rows, "labels": labels})
    assert scored["metric"] == "rmse"
    assert scored["value"] < np.std(labels) / 2


def test_classes_follow_the_models_labels_even_when_one_is_absent() -> None:
    rng = np.random.default_rng(4)
    rows = [{"income": float(rng.normal()), "debt_ratio": float(x), "region": "north", "owner": True} for x in rng.uniform(size=200)]
    labels = ["high" if r["debt_ratio"] > 0.5 else "low" for r in rows]
    trained = train(
        {
            "pipeline": "sklearn-logistic",
            "task": "multiclass",
            "schema": SCHEMA,
            "classes": ["low", "medium", "high"],
            "rows": rows,
            "labels": labels,
        }
    )
    classes = trained["artifact"]["classes"]
    assert sorted(classes) == ["high", "low"]
    probabilities = predict_onnx(base64.b64decode(trained["artifact"]["model"]), SCHEMA, [{"income": 0, "debt_ratio": 0.95, "region": "north", "owner": True}], False)
    assert classes[int(probabilities.argmax())] == "high"


def test_missing_and_unknown_values_are_imputed_not_fatal() -> None:
    rows, labels = credit_rows(200, seed=5)
    artifact = train({"pipeline": "sklearn-logistic", "task": "binary", "schema": SCHEMA, "classes": ["0", "1"], "rows": rows, "labels": labels})["artifact"]
    odd = [{"income": None, "debt_ratio": "n/a", "region": "atlantis"}, {}]
    probabilities = predict_onnx(base64.b64decode(artifact["model"]), SCHEMA, odd, False)
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pipeline": "pytorch"}, 'unknown pipeline "pytorch"'),
        ({"task": "ranking"}, 'unknown task "ranking"'),
        ({"labels": ["1"] * 50}, "a classifier needs two classes"),
        ({"labels": ["0", "maybe"] * 25}, "labels that are not classes of the model: maybe"),
        ({"labels": ["0"]}, "50 rows but 1 labels"),
        ({"schema": [{"name": "region", "type": "categorical", "categories": ["x"]}]}, "single feature needs it to be numeric"),
    ],
)
def test_requests_that_cannot_train_say_why(change: dict, message: str) -> None:
    rows, labels = credit_rows(50, seed=6)
    request = {"pipeline": "sklearn-logistic", "task": "binary", "schema": SCHEMA, "classes": ["0", "1"], "rows": rows, "labels": labels}
    with pytest.raises(TrainingError, match=message):
        train({**request, **change})


def test_a_missing_library_fails_only_its_own_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> pipelines.Estimators:
        raise ImportError("No module named 'catboost'")

    monkeypatch.setitem(pipelines.PIPELINES, "catboost", missing)
    assert available_pipelines()["catboost"].startswith("not installed")
    assert available_pipelines()["sklearn-logistic"] is None
    rows, labels = credit_rows(50, seed=7)
    with pytest.raises(TrainingError, match="needs a library that is not installed"):
        train({"pipeline": "catboost", "task": "binary", "schema": SCHEMA, "rows": rows, "labels": labels})
