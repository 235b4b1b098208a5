"""Small ONNX models exported from Python pipelines -> test/fixtures/onnx-models.json.

The models users bring: a scikit-learn pipeline with a categorical column (skl2onnx), an XGBoost
classifier (onnxmltools) and a scikit-learn regressor (skl2onnx). For each, the fixture holds the
Homeostat model description (task, feature schema, classes), the ONNX file (base64) as the `onnx`
artifact needs it, and rows with the answers the Python model gives on them, so that the TypeScript
adapter is checked against the library that trained the model.

Run from the repository root, in the project's .venv or any virtualenv:

    .venv/bin/pip install scikit-learn skl2onnx onnxmltools xgboost onnxruntime
    .venv/bin/python scripts/reference/onnx_models.py

Classifiers are exported with probabilities as a plain [rows, classes] tensor (skl2onnx's
`zipmap: False`): onnxruntime-node reads tensors only, not the sequence-of-maps default.
Output is deterministic for the versions written into the fixture's "meta".
"""

import base64
import json
import platform
from pathlib import Path

import numpy as np
import onnxruntime
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "onnx-models.json"
rng = np.random.default_rng(20261204)
N_TRAIN, N_CHECK = 600, 40


def numeric_rows(n):
    income = rng.normal(50_000, 15_000, n).round(2)
    debt_ratio = rng.uniform(0, 1, n).round(4)
    age = rng.integers(18, 80, n).astype(float)
    return income, debt_ratio, age


def b64(model):
    return base64.b64encode(model.SerializeToString()).decode("ascii")


def check_rows(columns, n):
    """JSON rows (feature name -> value), with a missing value in the first row to exercise imputation."""
    rows = [{k: (None if (i == 0 and k == "income") else v[i]) for k, v in columns.items()} for i in range(n)]
    for row in rows:
        for k, v in row.items():
            if isinstance(v, np.generic):
                row[k] = v.item()
    return rows


def as_float(rows, names):
    return np.array([[np.nan if r[k] is None else float(r[k]) for k in names] for r in rows], dtype=np.float32)


models = []

# 1. A scikit-learn pipeline: imputation, scaling, one-hot encoding of a categorical, logistic regression.
#    One ONNX input per column (what skl2onnx makes of a DataFrame-shaped pipeline).
income, debt_ratio, age = numeric_rows(N_TRAIN + N_CHECK)
region = rng.choice(["north", "south", "east", "west"], N_TRAIN + N_CHECK)
logit = -1 + 4 * debt_ratio - income / 40_000 + (region == "south") * 1.2
default = (rng.uniform(0, 1, N_TRAIN + N_CHECK) < 1 / (1 + np.exp(-logit))).astype(int)
numeric = ["income", "debt_ratio", "age"]
pipeline = Pipeline(
    [
        (
            "prep",
            ColumnTransformer(
                [
                    ("num", Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]), [0, 1, 2]),
                    ("cat", OneHotEncoder(handle_unknown="ignore"), [3]),
                ]
            ),
        ),
        ("model", LogisticRegression(max_iter=500)),
    ]
)
# skl2onnx converts a pipeline over several inputs when the ColumnTransformer selects by position from one
# concatenated frame; the exported graph has one input per column, in this order.
frame = np.empty((N_TRAIN + N_CHECK, 4), dtype=object)
frame[:, 0], frame[:, 1], frame[:, 2], frame[:, 3] = income, debt_ratio, age, region
pipeline.fit(frame[:N_TRAIN], default[:N_TRAIN].astype(str))
initial_types = [(name, FloatTensorType([None, 1])) for name in numeric] + [("region", StringTensorType([None, 1]))]
onnx_pipeline = skl2onnx.convert_sklearn(
    pipeline, initial_types=initial_types, options={id(pipeline.steps[-1][1]): {"zipmap": False}}, target_opset=17
)
rows = check_rows(
    {"income": income[N_TRAIN:], "debt_ratio": debt_ratio[N_TRAIN:], "age": age[N_TRAIN:], "region": region[N_TRAIN:]},
    N_CHECK,
)
check_frame = np.array([[np.nan if r["income"] is None else r["income"], r["debt_ratio"], r["age"], r["region"]] for r in rows], dtype=object)
models.append(
    {
        "name": "sklearn-pipeline-logistic",
        "task": "binary",
        "classes": [str(c) for c in pipeline.classes_],
        "schema": [
            {"name": "income", "type": "numeric"},
            {"name": "debt_ratio", "type": "numeric"},
            {"name": "age", "type": "numeric"},
            {"name": "region", "type": "categorical"},
        ],
        "onnx": b64(onnx_pipeline),
        "rows": rows,
        "labels": [str(x) for x in default[N_TRAIN:]],
        "probabilities": pipeline.predict_proba(check_frame).round(6).tolist(),
    }
)

# 2. An XGBoost classifier on numeric features, one float tensor input [rows, features].
try:
    import onnxmltools
    import xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType as MlFloatTensorType

    income, debt_ratio, age = numeric_rows(N_TRAIN + N_CHECK)
    x = np.stack([income, debt_ratio, age], axis=1).astype(np.float32)
    y = ((debt_ratio > 0.6) | (income < 30_000)).astype(int)
    flip = rng.uniform(0, 1, len(y)) < 0.1
    y = np.where(flip, 1 - y, y)
    booster = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=1)
    booster.fit(x[:N_TRAIN], y[:N_TRAIN])
    onnx_xgb = onnxmltools.convert_xgboost(
        booster, initial_types=[("features", MlFloatTensorType([None, 3]))], target_opset=15
    )
    rows = check_rows({"income": income[N_TRAIN:], "debt_ratio": debt_ratio[N_TRAIN:], "age": age[N_TRAIN:]}, N_CHECK)
    models.append(
        {
            "name": "xgboost-classifier",
            "task": "binary",
            "classes": ["0", "1"],
            "schema": [{"name": n, "type": "numeric"} for n in numeric],
            "onnx": b64(onnx_xgb),
            "rows": rows,
            "labels": [str(v) for v in y[N_TRAIN:]],
            "probabilities": booster.predict_proba(as_float(rows, numeric)).round(6).tolist(),
            "xgboost": xgboost.__version__,
            "onnxmltools": onnxmltools.__version__,
        }
    )
except ImportError as missing:  # XGBoost is optional for users; the fixture says which models it has
    print(f"skipping the XGBoost model: {missing}")

# 3. A scikit-learn regressor with imputation, one float tensor input.
income, debt_ratio, age = numeric_rows(N_TRAIN + N_CHECK)
spend = 0.2 * income - 8_000 * debt_ratio + 50 * age + rng.normal(0, 500, len(age))
x = np.stack([income, debt_ratio, age], axis=1).astype(np.float32)
regressor = Pipeline([("impute", SimpleImputer()), ("model", LinearRegression())]).fit(x[:N_TRAIN], spend[:N_TRAIN])
onnx_reg = to_onnx(regressor, x[:1], target_opset=17)
rows = check_rows({"income": income[N_TRAIN:], "debt_ratio": debt_ratio[N_TRAIN:], "age": age[N_TRAIN:]}, N_CHECK)
models.append(
    {
        "name": "sklearn-linear-regressor",
        "task": "regression",
        "schema": [{"name": n, "type": "numeric"} for n in numeric],
        "onnx": b64(onnx_reg),
        "rows": rows,
        "labels": spend[N_TRAIN:].round(4).tolist(),
        "values": regressor.predict(as_float(rows, numeric)).round(4).tolist(),
    }
)

OUT.write_text(
    json.dumps(
        {
            "meta": {
                "python": platform.python_version(),
                "scikit-learn": sklearn.__version__,
                "skl2onnx": skl2onnx.__version__,
                "onnxruntime": onnxruntime.__version__,
                "numpy": np.__version__,
            },
            "models": models,
        },
        indent=1,
    )
    + "\n"
)
print(f"wrote {OUT} ({', '.join(m['name'] for m in models)})")
