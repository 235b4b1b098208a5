"""Fits one pipeline from files and writes the `onnx` artifact: the first version of a model, or a
training command for Homeostat's external trainer (lib/models/external-trainer.ts), whose contract it
follows:

    python -m homeostat_trainer.fit <pipeline> [classes,comma,separated]

reads HOMEOSTAT_TRAINING_DATA (JSON lines {"features": {...}, "label": ...}), HOMEOSTAT_FEATURE_SCHEMA
and HOMEOSTAT_TASK, and writes the artifact JSON to HOMEOSTAT_ARTIFACT_PATH (stdout when unset).
Without the classes argument a classifier's classes are its labels, sorted.
"""

from __future__ import annotations

import json
import os
import sys

from .pipelines import TrainingError, train


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    with open(os.environ["HOMEOSTAT_FEATURE_SCHEMA"], encoding="utf-8") as f:
        schema = json.load(f)
    rows, labels = [], []
    with open(os.environ["HOMEOSTAT_TRAINING_DATA"], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                rows.append(record["features"])
                labels.append(record["label"])
    request = {
        "pipeline": argv[0],
        "task": os.environ["HOMEOSTAT_TASK"],
        "schema": schema,
        "classes": argv[1].split(",") if len(argv) == 2 else None,
        "rows": rows,
        "labels": labels,
    }
    try:
        artifact = json.dumps(train(request)["artifact"])
    except TrainingError as error:
        print(f"homeostat_trainer.fit: {error}", file=sys.stderr)
        return 1
    path = os.environ.get("HOMEOSTAT_ARTIFACT_PATH")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(artifact)
    else:
        print(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
