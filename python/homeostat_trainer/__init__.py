"""Homeostat's Python training worker: scikit-learn, XGBoost and LightGBM pipelines, exported to ONNX."""

#: The Temporal task queue the worker serves; workflows/remedies.ts sends Python trainings to it.
TASK_QUEUE = "homeostat-python"
