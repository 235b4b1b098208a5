"""Reference values for lib/stats, computed with SciPy/NumPy -> test/fixtures/scipy-reference.json.

Run from the repository root, in a throwaway virtualenv outside the repository:

    python3 -m venv /tmp/scipy-venv && /tmp/scipy-venv/bin/pip install scipy numpy
    /tmp/scipy-venv/bin/python scripts/reference/scipy_reference.py

The committed fixture was produced with Python 3.11.7, SciPy 1.17.1, NumPy 2.4.6 (the versions are also
written into the fixture's "meta"). Output is deterministic: literal inputs come from a seeded NumPy
generator and are rounded to 4 decimals; large inputs are not stored but described as
{"seed", "n", ...} and regenerated on both sides with the mulberry32 generator of lib/sim/random.ts,
re-implemented below bit for bit (integer arithmetic and one exact division only).

Metrics SciPy does not have are computed here from their definitions in NumPy: PSI (with the same
binning and empty-bin rule as lib/stats/psi.ts), the two-proportion z-test, Cohen's d/h, and the
chi-square pooling rule of lib/stats/chi-square.ts (a second, independent implementation of it).
"""

import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import scipy
import scipy.special
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.stats.contingency import association

OUTPUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "scipy-reference.json"
rng = np.random.default_rng(20240601)
MASK = 0xFFFFFFFF


def mulberry32(seed):
    """Same sequence as lib/sim/random.ts Random#next()."""
    state = seed & MASK

    def imul(a, b):
        return (a * b) & MASK

    while True:
        state = (state + 0x6D2B79F5) & MASK
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & MASK
        yield ((t ^ (t >> 14)) & MASK) / 4294967296


def generated(seed, n, levels=None, power=1, shift=0.0, scale=1.0):
    """A sample stored as its recipe: shift + scale * g(u), g = floor(u*levels) and/or u**power."""
    gen = mulberry32(seed)
    values = []
    for _ in range(n):
        u = next(gen)
        if levels is not None:
            u = float(math.floor(u * levels))
        if power == 2:
            u = u * u
        values.append(shift + scale * u)
    spec = {"seed": seed, "n": n, "power": power, "shift": shift, "scale": scale}
    if levels is not None:
        spec["levels"] = levels
    return spec, np.array(values)


def literal(values):
    values = np.round(np.asarray(values, dtype=float), 4)
    return values.tolist(), values


def normal(n, loc=0.0, sd=1.0):
    return literal(rng.normal(loc, sd, n))


def f(x):
    """JSON-safe float (the fixture has no NaN or infinity)."""
    x = float(x)
    assert math.isfinite(x), x
    return x


# --- Kolmogorov-Smirnov ---------------------------------------------------------------------------

def ks_case(name, ref, cur):
    (ref_json, a), (cur_json, b) = ref, cur
    auto = stats.ks_2samp(b, a, method="auto")
    asymp = stats.ks_2samp(b, a, method="asymp")
    scipy_method = "exact" if max(len(a), len(b)) <= 10000 else "asymptotic"
    return {
        "name": name,
        "reference": ref_json,
        "current": cur_json,
        "statistic": f(auto.statistic),
        "pValue": f(auto.pvalue),
        "scipyMethod": scipy_method,
        "asymptoticPValue": f(asymp.pvalue),
    }


same_50 = normal(50)
ks_cases = [
    ks_case("n8 vs n8, shift 0.5", normal(8), normal(8, 0.5)),
    ks_case("n10 vs n15, same distribution", normal(10), normal(15)),
    ks_case("n20 vs n20, shift 1", normal(20), normal(20, 1.0)),
    ks_case("n30 vs n47, shift 0.3", normal(30), normal(47, 0.3)),
    ks_case("integers with ties", literal(rng.integers(0, 6, 40)), literal(rng.integers(0, 7, 60))),
    ks_case("identical samples", same_50, same_50),
    ks_case("disjoint samples", normal(50), normal(70, 5.0)),
    ks_case("n1 vs n5", literal([0.3]), literal([0.1, 0.5, 0.7, 0.9, 1.1])),
    ks_case("n300 vs n500, shift 0.1", normal(300), normal(500, 0.1)),
    ks_case("generated 3000 vs 2000, shift 0.02", generated(1, 3000), generated(2, 2000, shift=0.02)),
    ks_case("generated 10000 vs 10000, same", generated(3, 10000), generated(4, 10000)),
    ks_case("generated 8000 vs 7001, same", generated(29, 8000), generated(30, 7001)),
    ks_case("generated 10000 vs 9999, shift 0.03", generated(31, 10000), generated(32, 9999, shift=0.03)),
    ks_case("generated 10000 vs 9999, shift 0.1", generated(5, 10000), generated(6, 9999, shift=0.1)),
    ks_case("generated 12000 vs 30, same", generated(7, 12000), generated(8, 30)),
    ks_case("generated 12000 vs 30, shift 0.3", generated(9, 12000), generated(10, 30, shift=0.3)),
    ks_case("generated 20000 vs 15000, same", generated(11, 20000), generated(12, 15000)),
    ks_case("generated 20000 vs 15000, shift 0.03", generated(13, 20000), generated(14, 15000, shift=0.03)),
    ks_case("generated 12000 vs 11000, shift 0.5", generated(15, 12000), generated(16, 11000, shift=0.5)),
    ks_case("generated 15000 vs 15000, u vs u^2", generated(17, 15000), generated(18, 15000, power=2)),
    ks_case("generated 15000 vs 12000, 50 levels", generated(19, 15000, levels=50), generated(20, 12000, levels=50)),
    ks_case("generated 100000 vs 100000, shift 0.005", generated(21, 100000), generated(22, 100000, shift=0.005)),
]

kolmogorov_sf = []
for n in [1, 2, 5, 10, 30, 140, 141, 500, 5000, 50000, 150000]:
    for d in [1e-4, 0.4 / n, 0.75 / n, 1 / n, 1.5 / n, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9,
              1 - 0.5 / n]:
        if 0 < d < 1:
            kolmogorov_sf.append([n, d, f(stats.kstwo.sf(d, n))])

# --- distribution tails ---------------------------------------------------------------------------

normal_sf = [[z, f(stats.norm.sf(z))] for z in [-5, -1.5, -0.2, 0, 0.2, 1, 1.96, 3, 5, 8, 10, 20, 37]]
student_t_sf = [[t, df, f(stats.t.sf(t, df))]
                for t in [-3, -0.5, 0.3, 1, 2.2, 4, 8, 15, 40]
                for df in [0.5, 1, 2.5, 7.3, 30, 150.7, 2000, 1e5]]
# ln Γ on both sides of 0.5, where lib/stats/distributions.ts switches to the reflection formula.
log_gamma = [[x, f(scipy.special.gammaln(x))] for x in [0.05, 0.25, 0.4999, 0.5, 1, 2.5, 9.75, 10, 57.3, 1e3]]
chi_square_sf = [[x, k, f(stats.chi2.sf(x, k))]
                 for x in [0.01, 0.5, 1, 3, 9, 25, 80, 200, 800]
                 for k in [1, 2, 3, 7, 20, 99]]

# P(X >= n) for a Poisson count of mean mu: a window's rows against those its baseline rate predicts.
poisson_at_least = [[n, mu, f(stats.poisson.sf(n - 1, mu))]
                    for n in [1, 2, 5, 30, 60, 200, 1000, 5000]
                    for mu in [0.5, 3, 16.7, 25, 52, 180, 900, 4800]]

# --- chi-square homogeneity -----------------------------------------------------------------------


def pool_sparse(ref, cur):
    """The pooling rule documented in lib/stats/chi-square.ts."""
    ref_total, cur_total = sum(ref), sum(cur)
    total = ref_total + cur_total
    smaller = min(ref_total, cur_total)

    def sparse(column_total):
        return column_total * smaller / total < 5

    by_rarity = sorted((i for i in range(len(ref)) if ref[i] + cur[i] > 0), key=lambda i: (ref[i] + cur[i], i))
    pooled, pooled_total, nxt = [], 0, 0
    while nxt < len(by_rarity):
        i = by_rarity[nxt]
        if not sparse(ref[i] + cur[i]) and (not pooled or not sparse(pooled_total)):
            break
        pooled.append(i)
        pooled_total += ref[i] + cur[i]
        nxt += 1
    groups = [[i] for i in by_rarity[nxt:]]
    if pooled:
        groups.append(sorted(pooled))
    return sorted(groups, key=lambda g: g[0])


def chi_square_case(name, ref, cur):
    groups = pool_sparse(ref, cur)
    pooled_ref = [sum(ref[i] for i in g) for g in groups]
    pooled_cur = [sum(cur[i] for i in g) for g in groups]
    case = {"name": name, "reference": ref, "current": cur, "groups": groups,
            "pooledReference": pooled_ref, "pooledCurrent": pooled_cur}
    if len(groups) < 2:
        return {**case, "statistic": 0.0, "pValue": 1.0, "degreesOfFreedom": 0, "cramersV": 0.0}
    table = np.array([pooled_ref, pooled_cur])
    res = stats.chi2_contingency(table, correction=False)
    return {**case, "statistic": f(res.statistic), "pValue": f(res.pvalue), "degreesOfFreedom": int(res.dof),
            "cramersV": f(association(table, method="cramer", correction=False))}


chi_square_cases = [
    chi_square_case("no drift", [100, 200, 300], [110, 190, 310]),
    chi_square_case("drift", [500, 300, 200], [300, 300, 400]),
    chi_square_case("sparse categories pooled", [200, 150, 3, 2, 1, 0], [180, 170, 1, 4, 0, 2]),
    chi_square_case("new category in current", [100, 100, 0], [90, 95, 20]),
    chi_square_case("everything sparse", [2, 1], [1, 2]),
    chi_square_case("2x2 (no Yates correction)", [30, 70], [45, 55]),
    chi_square_case("one sparse category joins the next rarest", [300, 200, 100, 2], [280, 230, 90, 1]),
    chi_square_case("unequal totals", [5000, 3000, 1500, 400, 80, 15, 5], [50, 30, 16, 3, 1, 0, 0]),
    chi_square_case("multinomial 12 categories", rng.multinomial(2000, np.full(12, 1 / 12)).tolist(),
                    rng.multinomial(1500, np.linspace(1, 2, 12) / np.linspace(1, 2, 12).sum()).tolist()),
    # The edges of the pooling rule: a category no window has is dropped, not pooled; an expected count of
    # exactly 5 is not sparse; categories tied in rarity are taken by index.
    chi_square_case("a category empty in both windows", [40, 0, 60, 3], [50, 0, 45, 2]),
    chi_square_case("smaller expected count exactly 5", [2, 98], [8, 92]),
    chi_square_case("tied categories where pooling stops", [3, 15, 5, 77], [1, 5, 15, 79]),
]

# --- PSI ------------------------------------------------------------------------------------------

PSI_EMPTY = 1e-4


def psi_from_counts(ref_counts, cur_counts, empty=PSI_EMPTY):
    r = np.asarray(ref_counts, dtype=float)
    c = np.asarray(cur_counts, dtype=float)
    r = np.where(r > 0, r / r.sum(), empty)
    c = np.where(c > 0, c / c.sum(), empty)
    return float(np.sum((c - r) * np.log(c / r)))


def open_histogram(values, edges):
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1).tolist()


def psi_case(name, ref, cur, bins=10):
    (ref_json, a), (cur_json, b) = ref, cur
    edges = np.unique(np.quantile(a, np.arange(1, bins) / bins))
    ref_counts, cur_counts = open_histogram(a, edges), open_histogram(b, edges)
    return {"name": name, "reference": ref_json, "current": cur_json, "bins": bins, "edges": edges.tolist(),
            "referenceCounts": ref_counts, "currentCounts": cur_counts,
            "value": psi_from_counts(ref_counts, cur_counts)}


psi_cases = [
    psi_case("same distribution", normal(1000), normal(1000)),
    psi_case("shift 0.5", normal(1000), normal(800, 0.5)),
    psi_case("sd doubled", normal(1000), normal(800, 0.0, 2.0)),
    psi_case("current beyond reference range", normal(500), normal(300, 10.0)),
    psi_case("tied reference", literal(rng.integers(0, 4, 600)), literal(rng.integers(0, 5, 400))),
    psi_case("5 bins", normal(400), normal(400, 0.2), bins=5),
]
psi_count_cases = [
    {"reference": ref, "current": cur, "value": psi_from_counts(ref, cur)}
    for ref, cur in [([100, 200, 300, 400], [120, 180, 320, 380]), ([50, 0, 50], [40, 10, 50]),
                     ([30, 0, 70], [25, 0, 75]), ([1, 0], [0, 1])]
]

# --- Jensen-Shannon -------------------------------------------------------------------------------

js_cases = [
    {"reference": ref, "current": cur, "value": f(jensenshannon(ref, cur, base=2))}
    for ref, cur in [([100, 200, 300, 400], [120, 180, 320, 380]), ([10, 0], [0, 5]), ([3, 3, 3], [1, 1, 1]),
                     ([50, 0, 50], [40, 10, 50]), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
                     (rng.multinomial(500, np.full(20, 0.05)).tolist(), rng.multinomial(300, np.full(20, 0.05)).tolist())]
]

# --- Wasserstein ----------------------------------------------------------------------------------


def wasserstein_case(name, ref, cur):
    (ref_json, a), (cur_json, b) = ref, cur
    distance = stats.wasserstein_distance(a, b)
    ref_sd = float(np.std(a, ddof=1)) if len(a) > 1 else 0.0
    if ref_sd > 0:
        scale, source = ref_sd, "reference_sd"
    else:
        scale, source = float(np.std(np.concatenate([a, b]), ddof=1)), "pooled_sd"
    return {"name": name, "reference": ref_json, "current": cur_json, "distance": f(distance),
            "normalized": f(distance / scale if scale > 0 else 0.0), "scale": f(scale), "scaleSource": source}


wasserstein_cases = [
    wasserstein_case("shift 0.3", normal(200), normal(150, 0.3)),
    wasserstein_case("sd doubled", normal(200), normal(150, 0.0, 2.0)),
    wasserstein_case("integers with ties", literal(rng.integers(0, 6, 80)), literal(rng.integers(1, 8, 50))),
    wasserstein_case("identical", same_50, same_50),
    wasserstein_case("constant reference", literal([2.0] * 20), normal(30, 2.0)),
    wasserstein_case("single values", literal([1.0]), literal([4.5])),
    wasserstein_case("generated 20000 vs 15000, u vs u^2", generated(23, 20000), generated(24, 15000, power=2)),
    # Literal cases (they draw nothing from rng, so the cases after them keep their values): the merge walk
    # must run on after either sample is used up.
    wasserstein_case("current beyond the reference", literal([0.0, 1.0, 1.0]), literal([0.5, 4.0, 7.0, 9.0])),
    wasserstein_case("reference beyond the current", literal([0.5, 4.0, 7.0, 9.0]), literal([0.0, 1.0, 1.0])),
]

# --- two-proportion z-test ------------------------------------------------------------------------


def proportion_case(x1, n1, x2, n2):
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (p2 - p1) / se if se > 0 else 0.0
    return {"reference": {"successes": x1, "trials": n1}, "current": {"successes": x2, "trials": n2},
            "statistic": f(z), "pValue": f(min(1.0, 2 * stats.norm.sf(abs(z)))), "difference": f(p2 - p1),
            "cohensH": f(2 * np.arcsin(np.sqrt(p2)) - 2 * np.arcsin(np.sqrt(p1)))}


proportion_cases = [proportion_case(*c) for c in [
    (50, 1000, 70, 1000), (5, 100, 20, 100), (0, 50, 0, 60), (500, 10000, 650, 10000), (1, 20, 19, 20),
    (30, 30, 29, 30), (120, 4000, 20, 300), (2, 100000, 40, 100000)]]

# --- Welch's t-test -------------------------------------------------------------------------------


def welch_case(name, ref, cur):
    (ref_json, a), (cur_json, b) = ref, cur
    res = stats.ttest_ind(b, a, equal_var=False)
    scale = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)
    return {"name": name, "reference": ref_json, "current": cur_json, "statistic": f(res.statistic),
            "pValue": f(res.pvalue), "degreesOfFreedom": f(res.df), "meanDifference": f(np.mean(b) - np.mean(a)),
            "cohensD": f((np.mean(b) - np.mean(a)) / scale)}


welch_cases = [
    welch_case("n5 vs n7", normal(5), normal(7, 0.5)),
    welch_case("unequal variances", normal(30), normal(50, 0.4, 3.0)),
    welch_case("large shift", normal(200), normal(200, 2.0)),
    welch_case("2000 vs 1500, shift 0.05", normal(2000), normal(1500, 0.05)),
    welch_case("integers with ties", literal(rng.integers(0, 6, 40)), literal(rng.integers(0, 7, 60))),
    welch_case("one constant sample", literal([3.0] * 10), normal(12, 3.0)),
    welch_case("generated 20000 vs 20000, shift 0.01", generated(25, 20000), generated(26, 20000, shift=0.01)),
    # Literal: the smallest samples the test accepts.
    welch_case("two values each", literal([1.0, 3.0]), literal([2.0, 6.0])),
]

# --- Mann-Whitney U -------------------------------------------------------------------------------


def mann_whitney_case(name, ref, cur):
    (ref_json, a), (cur_json, b) = ref, cur
    res = stats.mannwhitneyu(b, a, alternative="two-sided", method="asymptotic", use_continuity=True)
    return {"name": name, "reference": ref_json, "current": cur_json, "statistic": f(res.statistic),
            "pValue": f(res.pvalue), "probabilityOfSuperiority": f(res.statistic / (len(a) * len(b)))}


mann_whitney_cases = [
    mann_whitney_case("n5 vs n6", normal(5), normal(6, 1.0)),
    mann_whitney_case("shift 0.3", normal(100), normal(120, 0.3)),
    mann_whitney_case("integers with ties", literal(rng.integers(0, 6, 40)), literal(rng.integers(0, 7, 60))),
    mann_whitney_case("identical", same_50, same_50),
    mann_whitney_case("all values tied", literal([1.0] * 3), literal([1.0] * 2)),
    mann_whitney_case("disjoint", normal(40), normal(30, 6.0)),
    mann_whitney_case("generated 15000 vs 12000, 50 levels",
                      generated(27, 15000, levels=50), generated(28, 12000, levels=50, shift=0.0, scale=1.0)),
    # Literal: the current sample lower (U below n1·n2/2), and ties among the reference values above every
    # current value, which the merge walk must still count.
    mann_whitney_case("current lower, reference ties above it", literal([4.0, 5.0, 5.0, 6.0, 6.0, 6.0]),
                      literal([1.0, 2.0, 2.0, 3.0])),
]

# --- multiple testing -----------------------------------------------------------------------------

p_value_sets = [
    [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
     0.7590, 1.000],
    rng.uniform(0, 1, 20).round(6).tolist(),
    [0.01, 0.04, 0.04, 0.03, 0.5, 0.01],
    [0.3],
    [1e-12, 0.2, 1e-8, 0.049],
]
multiple_testing = [
    {"pValues": ps, "benjaminiHochberg": [f(x) for x in stats.false_discovery_control(ps, method="bh")],
     "bonferroni": [f(min(1.0, p * len(ps))) for p in ps]}
    for ps in p_value_sets
]

# --- descriptive ----------------------------------------------------------------------------------


def descriptive_case(name, sample):
    values_json, x = sample
    probabilities = [0, 0.1, 0.25, 0.5, 0.73, 0.9, 0.999, 1]
    return {"name": name, "values": values_json, "mean": f(np.mean(x)), "standardDeviation": f(np.std(x, ddof=1)),
            "median": f(np.median(x)), "medianAbsoluteDeviation": f(stats.median_abs_deviation(x)),
            "probabilities": probabilities, "quantiles": [f(q) for q in np.quantile(x, probabilities)],
            "edges10": np.unique(np.quantile(x, np.arange(1, 10) / 10)).tolist(),
            "edges4": np.unique(np.quantile(x, np.arange(1, 4) / 4)).tolist()}


histogram_values_json, histogram_values = normal(300, 0.0, 2.0)
histogram_edges = [-2.5, -1.0, -0.25, 0.0, 0.5, 1.0, 3.0]
descriptive = {
    "cases": [
        descriptive_case("normal, odd n", normal(101)),
        descriptive_case("normal, even n", normal(64, 10.0, 3.0)),
        descriptive_case("integers with ties", literal(rng.integers(0, 5, 57))),
        descriptive_case("two values", literal([1.0, 2.0])),
        # Literal: two values at which interpolating from the lower end and from the upper end round
        # differently at every probability strictly between them (numpy takes the nearer end).
        descriptive_case("two values, rounding at either end", literal([0.9913, -3.9095])),
    ],
    "histogram": {"values": histogram_values_json, "edges": histogram_edges,
                  "counts": open_histogram(histogram_values, histogram_edges)},
}

# Paired comparisons of a candidate with production on the same held-out rows (lib/recovery/paired.ts).
# Drawn from their own generator so that the cases above keep their values.
paired_rng = np.random.default_rng(20261126)


def mcnemar_mid_p(b, c):
    """One-sided exact McNemar with mid-p: P(X > b) + P(X = b)/2, X ~ Binomial(b + c, 1/2)."""
    n = b + c
    return f(stats.binom.sf(b, n, 0.5) + 0.5 * stats.binom.pmf(b, n, 0.5))


def paired_t_case(name, production, candidate):
    production_json, production_values = production
    candidate_json, candidate_values = candidate
    result = stats.ttest_rel(production_values, candidate_values, alternative="greater")
    return {"name": name, "production": production_json, "candidate": candidate_json,
            "statistic": f(result.statistic), "pValue": f(result.pvalue)}


def squared_errors(n, scale):
    return literal(paired_rng.normal(0, scale, n) ** 2)


paired_production_80 = squared_errors(80, 1.0)
paired = {
    "mcnemarMidP": [[b, c, mcnemar_mid_p(b, c)]
                    for b, c in [(0, 0), (1, 0), (0, 1), (3, 2), (5, 0), (12, 4), (4, 12), (30, 18),
                                 (100, 100), (260, 200), (1500, 1400), (40, 1), (0, 60)]],
    "pairedT": [
        paired_t_case("candidate better, n 80", paired_production_80,
                      literal(paired_production_80[1] * 0.8 + squared_errors(80, 0.2)[1])),
        paired_t_case("no difference, n 50", squared_errors(50, 1.0), squared_errors(50, 1.0)),
        paired_t_case("candidate worse, n 12", squared_errors(12, 1.0), squared_errors(12, 2.0)),
        paired_t_case("two pairs", literal([1.0, 4.0]), literal([0.5, 2.0])),
    ],
}


# Sample sizes of the one-sided paired tests (lib/recovery/sample-size.ts) and the normal quantile behind
# them. Paired means: the exact answer, the smallest n whose noncentral-t power reaches the target.
# Paired proportions: Connor's (1987) formula, re-implemented here, beside the exact power of the mid-p
# McNemar test at that n (enumerated over the discordant count), which shows what the formula delivers.
def paired_t_rows(delta, sd, alpha, power):
    n = 2
    while True:
        df = n - 1
        achieved = stats.nct.sf(stats.t.ppf(1 - alpha, df), df, delta / sd * math.sqrt(n))
        if achieved >= power:
            return n
        n += 1


def connor_rows(p10, p01, alpha, power):
    delta, psi = p10 - p01, p10 + p01
    z_a, z_b = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
    return math.ceil((z_a * math.sqrt(psi) + z_b * math.sqrt(psi - delta * delta)) ** 2 / delta ** 2)


def mcnemar_mid_p_power(n, p10, p01, alpha):
    psi = p10 + p01
    achieved = 0.0
    for m in range(n + 1):
        b = np.arange(m + 1)
        mid_p = stats.binom.sf(b, m, 0.5) + 0.5 * stats.binom.pmf(b, m, 0.5)
        achieved += stats.binom.pmf(m, n, psi) * stats.binom.pmf(b, m, p10 / psi)[mid_p < alpha].sum()
    return achieved


sample_size = {
    "normalPpf": [[p, f(stats.norm.ppf(p))]
                  for p in [1e-12, 1e-6, 0.001, 0.01, 0.025, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999]],
    "pairedMeanRows": [[delta, sd, alpha, power, paired_t_rows(delta, sd, alpha, power)]
                       for delta, sd, alpha, power in [(0.5, 1.0, 0.05, 0.8), (0.2, 1.0, 0.05, 0.8),
                                                       (0.1, 1.0, 0.05, 0.8), (1.0, 1.0, 0.05, 0.8),
                                                       (0.3, 2.0, 0.01, 0.9), (2.0, 1.0, 0.05, 0.8)]],
    "pairedProportionRows": [
        [p10, p01, alpha, power, n, f(mcnemar_mid_p_power(n, p10, p01, alpha))]
        for p10, p01, alpha, power in [(0.10, 0.05, 0.05, 0.8), (0.15, 0.05, 0.05, 0.8),
                                       (0.08, 0.06, 0.05, 0.8), (0.30, 0.10, 0.05, 0.8),
                                       (0.12, 0.04, 0.01, 0.9)]
        for n in [connor_rows(p10, p01, alpha, power)]
    ],
}

# Welch's t from sums (lib/stats/welch.ts welchTTestFromSums): the segment rule's test that a regression
# segment's mean squared error rose (lib/brain/findings/segment.ts). The samples are squared errors, kept
# as their sums (n, sum of x, sum of x^2) as the monitor keeps them; SciPy tests the values themselves.
sums_rng = np.random.default_rng(20261207)


def squared(n, sd=1.0, df=None):
    errors = sd * (sums_rng.standard_t(df, n) if df else sums_rng.normal(0, 1, n))
    return errors * errors


def sums_of(x):
    return {"n": int(len(x)), "sum": f(np.sum(x)), "sumSquares": f(np.sum(x * x))}


def welch_sums_case(name, ref, cur, alternative="greater"):
    res = stats.ttest_ind(cur, ref, equal_var=False, alternative=alternative)
    return {"name": name, "reference": sums_of(ref), "current": sums_of(cur), "alternative": alternative,
            "statistic": f(res.statistic), "pValue": f(res.pvalue), "degreesOfFreedom": f(res.df),
            "meanDifference": f(np.mean(cur) - np.mean(ref))}


welch_sums_cases = [
    welch_sums_case("5000 vs 150, same error", squared(5000), squared(150)),
    welch_sums_case("5000 vs 150, RMSE x1.3", squared(5000), squared(150, 1.3)),
    welch_sums_case("2000 vs 30, RMSE x2", squared(2000), squared(30, 2.0)),
    welch_sums_case("400 vs 100, lower error", squared(400, 1.5), squared(100)),
    welch_sums_case("heavy tails t(5), 3000 vs 200, RMSE x1.2", squared(3000, 1.0, 5), squared(200, 1.2, 5)),
    welch_sums_case("two-sided, 300 vs 60", squared(300), squared(60, 1.4), "two-sided"),
    welch_sums_case("three values each", np.array([1.0, 4.0, 0.25]), np.array([2.0, 9.0, 1.0])),
]

fixture = {
    "meta": {
        "generatedBy": "scripts/reference/scipy_reference.py",
        "python": platform.python_version(),
        "scipy": scipy.__version__,
        "numpy": np.__version__,
    },
    "ks": ks_cases,
    "kolmogorovSf": kolmogorov_sf,
    "normalSf": normal_sf,
    "logGamma": log_gamma,
    "studentTSf": student_t_sf,
    "chiSquareSf": chi_square_sf,
    "poissonAtLeast": poisson_at_least,
    "chiSquare": chi_square_cases,
    "psi": psi_cases,
    "psiFromCounts": psi_count_cases,
    "jensenShannon": js_cases,
    "wasserstein": wasserstein_cases,
    "twoProportion": proportion_cases,
    "welch": welch_cases,
    "welchFromSums": welch_sums_cases,
    "mannWhitney": mann_whitney_cases,
    "multipleTesting": multiple_testing,
    "descriptive": descriptive,
    "paired": paired,
    "sampleSize": sample_size,
}

OUTPUT.parent.mkdir(parents=True, exist_ok=True)
OUTPUT.write_text(json.dumps(fixture, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT} "
      f"({OUTPUT.stat().st_size / 1024:.0f} KiB) with scipy {scipy.__version__}, numpy {np.__version__}",
      file=sys.stderr)
