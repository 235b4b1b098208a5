"""The activities run in a real Temporal worker: a workflow-less activity environment calls them as the
TypeScript retrain does, with JSON payloads, and a request that cannot train fails non-retryably."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from homeostat_trainer.activities import evaluate_pipeline, train_pipeline
from test_pipelines import SCHEMA, credit_rows


def test_train_then_evaluate_through_the_activity_environment() -> None:
    env = ActivityEnvironment()
    heartbeats: list[object] = []
    env.on_heartbeat = lambda *details: heartbeats.append(details)
    rows, labels = credit_rows(300, seed=11)
    trained = env.run(
        train_pipeline,
        {"pipeline": "sklearn-gradient-boosting", "task": "binary", "schema": SCHEMA, "classes": ["0", "1"], "rows": rows, "labels": labels},
    )
    assert heartbeats, "a training tells Temporal it is alive"
    holdout, truth = credit_rows(100, seed=12)
    scored = env.run(evaluate_pipeline, {"artifact": trained["artifact"], "schema": SCHEMA, "rows": holdout, "labels": truth})
    assert scored["value"] > 0.9


def test_an_untrainable_request_fails_for_good() -> None:
    rows, _ = credit_rows(20, seed=13)
    with pytest.raises(ApplicationError) as failure:
        ActivityEnvironment().run(
            train_pipeline, {"pipeline": "nope", "task": "binary", "schema": SCHEMA, "rows": rows, "labels": ["0", "1"] * 10}
        )
    assert failure.value.type == "TrainingFailed"
    assert failure.value.non_retryable


def test_fit_follows_the_external_trainer_command_contract(tmp_path, monkeypatch, capsys) -> None:
    import json

    from homeostat_trainer.fit import main

    rows, labels = credit_rows(200, seed=14)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"features": r, "label": y}) + "\n" for r, y in zip(rows, labels)))
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    monkeypatch.setenv("HOMEOSTAT_TRAINING_DATA", str(data))
    monkeypatch.setenv("HOMEOSTAT_FEATURE_SCHEMA", str(schema))
    monkeypatch.setenv("HOMEOSTAT_TASK", "binary")
    monkeypatch.delenv("HOMEOSTAT_ARTIFACT_PATH", raising=False)
    assert main(["sklearn-logistic", "0,1"]) == 0
    artifact = json.loads(capsys.readouterr().out)
    assert artifact["kind"] == "onnx" and sorted(artifact["classes"]) == ["0", "1"]
    out = tmp_path / "artifact.json"
    monkeypatch.setenv("HOMEOSTAT_ARTIFACT_PATH", str(out))
    monkeypatch.setenv("HOMEOSTAT_TASK", "ranking")
    assert main(["sklearn-logistic"]) == 1
    assert 'unknown task "ranking"' in capsys.readouterr().err
    assert not out.exists()
