"""The Temporal activities the TypeScript retrain calls across languages (workflows/remedies.ts).

Names and payloads are the TypeScript side's (camelCase JSON): `trainPipeline` takes
{pipeline, task, schema, classes, rows, labels} and answers {artifact, pipeline, trainRows,
onnxAgreement}; `evaluatePipeline` takes {artifact, schema, rows, labels} and answers
{metric, value, rows}. A request that cannot succeed however often it is retried (unknown pipeline,
labels of one class) fails as a non-retryable `TrainingFailed`.
"""

from __future__ import annotations

import json
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import pipelines


def log(msg: str, **fields: object) -> None:
    """A JSON log line with a "msg", as the TypeScript processes write them."""
    print(json.dumps({"msg": msg, **fields}), flush=True)


def _final(error: pipelines.TrainingError) -> ApplicationError:
    return ApplicationError(str(error), type="TrainingFailed", non_retryable=True)


@activity.defn(name="trainPipeline")
def train_pipeline(request: dict[str, Any]) -> dict[str, Any]:
    activity.heartbeat("training")
    try:
        trained = pipelines.train(request)
    except pipelines.TrainingError as error:
        raise _final(error) from error
    log("trained", pipeline=trained["pipeline"], rows=trained["trainRows"], onnxAgreement=trained["onnxAgreement"])
    return trained


@activity.defn(name="evaluatePipeline")
def evaluate_pipeline(request: dict[str, Any]) -> dict[str, Any]:
    try:
        return pipelines.evaluate(request)
    except pipelines.TrainingError as error:
        raise _final(error) from error


ACTIVITIES = [train_pipeline, evaluate_pipeline]
