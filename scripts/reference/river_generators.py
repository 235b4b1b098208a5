"""Parity fixture for the synthetic stream generators (lib/sim/synthetic) -> test/fixtures/river-generators.json.

Run from the repository root with River installed (the project's .venv has it):

    .venv/bin/pip install river
    .venv/bin/python scripts/reference/river_generators.py

River's random numbers (Python's `random`) differ from lib/sim/random.ts, so the fixture does not hold
draws to reproduce. It holds, per generator:
- `labelled`: feature vectors River drew with the label River gave them (noise off), so a test can
  apply the TypeScript labelling function to the same vectors;
- `stats`: per-feature mean and standard deviation (numeric) or value frequencies (nominal) over
  STATS_N samples, to compare with the TypeScript generator's own draws;
- for LEDDrift, FriedmanDrift and ConceptDriftStream, what the drift does (which columns the digit
  moves to; residuals of the drifted target; the share of samples from the new concept over time).
Output is deterministic for a River version (recorded in "meta").
"""

import json
import math
import platform
import statistics
from pathlib import Path

import river
from river.datasets import synth

OUTPUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "river-generators.json"
LABELLED_N = 150
STATS_N = 5000


def take(stream, n):
    out = []
    for x, y in stream:
        out.append((x, y))
        if len(out) == n:
            return out


def numeric_stats(samples, keys):
    return {
        str(k): {"mean": statistics.fmean(x[k] for x, _ in samples), "sd": statistics.pstdev(x[k] for x, _ in samples)}
        for k in keys
    }


def frequencies(values):
    counts = {}
    for v in values:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return {k: c / len(values) for k, c in sorted(counts.items())}


def r(v):
    return round(v, 10) if isinstance(v, float) else v


def labelled(stream, n=LABELLED_N):
    return [{"x": {str(k): r(v) for k, v in x.items()}, "y": int(y) if isinstance(y, bool) else r(y)} for x, y in take(stream, n)]


fixture = {
    "meta": {"river": river.__version__, "python": platform.python_version(), "statsN": STATS_N},
}

fixture["sea"] = {
    "labelled": {str(v): labelled(synth.SEA(variant=v, seed=10 + v)) for v in range(4)},
    "stats": numeric_stats(take(synth.SEA(variant=0, seed=1), STATS_N), range(3)),
}

agrawal_keys = ["salary", "commission", "age", "elevel", "car", "zipcode", "hyears", "loan"]
fixture["agrawal"] = {
    "labelled": {str(f): labelled(synth.Agrawal(classification_function=f, seed=20 + f)) for f in range(10)},
    "stats": numeric_stats(take(synth.Agrawal(seed=2), STATS_N), agrawal_keys),
}

stagger = take(synth.STAGGER(seed=3), STATS_N)
fixture["stagger"] = {
    "labelled": {str(f): labelled(synth.STAGGER(classification_function=f, seed=30 + f)) for f in range(3)},
    "stats": {k: frequencies([x[k] for x, _ in stagger]) for k in ["size", "color", "shape"]},
}

fixture["sine"] = {
    "labelled": {str(f): labelled(synth.Sine(classification_function=f, seed=40 + f)) for f in range(4)},
    "stats": numeric_stats(take(synth.Sine(seed=4), STATS_N), range(2)),
}

hyper = synth.Hyperplane(seed=5, n_features=10, n_drift_features=0, noise_percentage=0.0)
hyper_samples = labelled(hyper)
fixture["hyperplane"] = {
    # Weights are drawn when iteration starts; the generator keeps them.
    "weights": list(hyper._weights),
    "labelled": hyper_samples,
    "stats": {**numeric_stats(take(synth.Hyperplane(seed=6), STATS_N), range(10)),
              "y": {"mean": statistics.fmean(y for _, y in take(synth.Hyperplane(seed=6), STATS_N)), "sd": 0}},
}

led = take(synth.LED(seed=7, noise_percentage=0.0, irrelevant_features=True), LABELLED_N)
led_noisy = take(synth.LED(seed=8, noise_percentage=0.1, irrelevant_features=True), STATS_N)
fixture["led"] = {
    "labelled": [{"x": [x[i] for i in range(24)], "y": y} for x, y in led],
    "stats": {
        "classes": frequencies([y for _, y in led_noisy]),
        "feature_means": [statistics.fmean(x[i] for x, _ in led_noisy) for i in range(24)],
    },
    "drift": [
        {"driftFeatures": n, "samples": [{"x": [x[i] for i in range(24)], "y": y} for x, y in take(
            synth.LEDDrift(seed=70 + n, noise_percentage=0.0, irrelevant_features=True, n_drift_features=n), 60)]}
        for n in (1, 3, 5, 7)
    ],
}

fried = take(synth.Friedman(seed=9), STATS_N)
fixture["friedman"] = {
    "labelled": labelled(synth.Friedman(seed=90)),
    "stats": numeric_stats(fried, range(10)),
    # The global recurring abrupt drift's second concept: samples between its two change points.
    "drifted": [
        {"x": {str(k): r(v) for k, v in x.items()}, "y": r(y)}
        for x, y in take(synth.FriedmanDrift(drift_type="gra", position=(0, 100_000), seed=91), LABELLED_N + 1)
    ][1:LABELLED_N + 1],
}

# ConceptDriftStream: SEA variant 0 -> variant 3 centred at 10,000 over 4,000 samples. A sample with
# 8 < x0 + x1 <= 9.5 is labelled 1 by variant 0 and 0 by variant 3, so its label tells the concept.
cds = take(synth.ConceptDriftStream(stream=synth.SEA(variant=0, seed=11), drift_stream=synth.SEA(variant=3, seed=12),
                                    position=10_000, width=4_000, seed=13), 20_000)
bins = []
for b in range(20):
    told = [y for x, y in cds[b * 1000:(b + 1) * 1000] if 8 < x[0] + x[1] <= 9.5]
    bins.append({"from": b * 1000, "to": (b + 1) * 1000, "discriminating": len(told),
                 "newConcept": sum(1 for y in told if not y)})
fixture["conceptDrift"] = {"position": 10_000, "width": 4_000, "bins": bins}

OUTPUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
print(f"wrote {OUTPUT}")
