"""How often would a one-seed run put ea-dc first on mean rank among its ablations?

    python benchmarks/rank_odds.py benchmarks/results/ucr-diff
    python benchmarks/rank_odds.py rows.csv:ea-dc-diff=ea-dc,diff-none=ablation-none,... --head logistic

Issue 16 reads its rank goal on one run of the four modes (``ea-dc`` and ``ablation-none``,
``-vanilla``, ``-residual``). This script asks how much that reading depends on the draw of
seeds. From rows with several seeds of all four modes on each set, it simulates one-seed runs:
every (set, mode) takes one of its seeds at random, independently, and the four modes are ranked
per set (ties averaged) as ``goals.py`` ranks them. It prints, for each mode, the share of
simulated runs in which that mode is strictly first on mean rank. Four modes of equal merit would
each be first in about a quarter of the runs (less, with ties). A bootstrap over a few seeds is
crude (each mode's seed spread comes from its own few seeds), so read the shares to about ten
points.

``--seeds-per-run`` asks the same of runs that read each mode's mean over ``K`` seeds: every
(set, mode) takes ``K`` of its stored seeds at random, without repeats, and the means are ranked.
It reads how many seeds a rank reading needs before the draw stops deciding it (with ``K`` equal
to the stored count every draw is the same, the full reading).

``--same-seed`` draws one seed per set for all four modes, as a real run does: the modes of one
seed share the batches, crops and dropout stream (and, with ``paired_init``, every shared
weight's start), so their scores move together, which independent draws ignore.

``--error-cuts`` turns the question round: had evolving attention made a given share fewer
test errors than it measured on every set (at every seed, rounded to whole test series, so a set
it already solves, or a cut smaller than one series, stays as it was; the other modes as
measured), how often would a one-seed run put it first? It reads how large an advantage the
goal, read on one seed, can see.

Sources are named as in ``goals.py`` (``PATH`` or ``PATH:OLD=NEW,...``). Nothing is chosen on
this: it reads stored rows.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from scipy.stats import rankdata

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)

from goals import ABLATIONS, classification_rows, read_sources  # noqa: E402

from tsea.benchmark.scores import REFERENCE_METHOD  # noqa: E402

MODES = (REFERENCE_METHOD, *ABLATIONS)


def seed_scores(rows) -> tuple[np.ndarray, list[str], list[int]]:
    """Accuracies (sets, modes, seeds) on the sets where all four modes have the same seeds.

    Every set keeps the seeds that all four modes have there; sets with fewer than two such seeds
    are left out (one seed has no spread to draw from), as are seeds beyond the smallest count
    kept, so that the array is rectangular."""
    ok = classification_rows(rows)
    ok = ok[ok["method"].isin(MODES)]
    table = ok.pivot_table(index=["dataset", "seed"], columns="method", values="score")
    table = table.reindex(columns=list(MODES)).dropna()
    per_set = table.groupby(level="dataset").size()
    keep = per_set[per_set >= 2]
    if keep.empty:
        raise SystemExit("no data set has two seeds of all four modes "
                         f"({', '.join(MODES)}): nothing to draw from")
    k = int(keep.min())
    blocks, seeds = [], set()
    for dataset in keep.index:
        block = table.loc[dataset].sort_index().iloc[:k]
        blocks.append(block.to_numpy().T)  # (modes, seeds)
        seeds |= set(block.index)
    return np.stack(blocks), list(keep.index), sorted(seeds)


def first_shares(scores: np.ndarray, draws: int, rng: np.random.Generator,
                 seeds_per_run: int = 1, same_seed: bool = False) -> np.ndarray:
    """For each mode, the share of ``draws`` simulated runs in which it is strictly first on mean
    rank, each run reading every (set, mode) on the mean of ``seeds_per_run`` distinct seeds
    (``same_seed``: the same seeds for every mode of a set). ``scores``: (sets, modes, seeds)."""
    n_sets, n_modes, n_seeds = scores.shape
    if not 1 <= seeds_per_run <= n_seeds:
        raise ValueError(f"seeds_per_run must lie in [1, {n_seeds}], got {seeds_per_run}")
    drawn_modes = 1 if same_seed else n_modes  # one draw per set, broadcast over its modes
    if seeds_per_run == 1:  # integers, not an order: the readings in BENCHMARKS.md redraw exactly
        pick = rng.integers(0, n_seeds, size=(draws, n_sets, drawn_modes, 1))
    else:  # distinct seeds: the first K of a random order of each (draw, set, mode)'s seeds
        order = rng.random((draws, n_sets, drawn_modes, n_seeds)).argsort(axis=-1)
        pick = order[..., :seeds_per_run]
    drawn = np.take_along_axis(scores[None], pick, axis=-1).mean(axis=-1)  # (draws, sets, modes)
    # the rule of tsea.benchmark.scores.ranks (1 = best, ties averaged), on all draws at once
    mean_rank = rankdata(-drawn, axis=-1, method="average").mean(axis=1)  # (draws, modes)
    best = mean_rank.min(axis=1, keepdims=True)
    alone = (mean_rank == best).sum(axis=1) == 1
    return ((mean_rank == best) & alone[:, None]).mean(axis=0)


def fewer_errors(scores: np.ndarray, n_test: np.ndarray, share: float) -> np.ndarray:
    """``scores`` (sets, modes, seeds) with the first mode's (ea-dc's) test errors cut by
    ``share`` on every set and seed, in whole test series (``n_test``: (sets,))."""
    n = np.asarray(n_test, dtype=np.float64)[:, None, None]
    correct = np.rint(scores * n)  # every mode as whole series, so that ties stay exact
    correct[:, 0] += np.rint(share * (n[:, 0] - correct[:, 0]))
    return correct / n


def test_sizes(rows, sets: list[str]) -> np.ndarray:
    """Test series of each set (one value per set in the rows)."""
    ok = classification_rows(rows)
    sizes = ok.groupby("dataset")["n_test"].agg(["min", "max"]).loc[sets]
    if (sizes["min"] != sizes["max"]).any():
        raise SystemExit("rows disagree on a set's test size: "
                         + ", ".join(sizes.index[sizes["min"] != sizes["max"]]))
    return sizes["min"].to_numpy(dtype=np.int64)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rows", nargs="+", help="as goals.py: folders, results files or "
                        "head_study.py csvs, each optionally PATH:METHOD[,OLD=NEW...]")
    parser.add_argument("--head", default=None, help="the head to read from a head_study.py csv")
    parser.add_argument("--draws", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0, help="of the simulation's generator")
    parser.add_argument("--seeds-per-run", default="1", help="comma-separated seed counts K: "
                        "each simulated run reads every mode's mean over K of its stored seeds")
    parser.add_argument("--same-seed", action="store_true", help="draw one seed per set for "
                        "all four modes (a real run's pairing) instead of one per (set, mode)")
    parser.add_argument("--error-cuts", default="", help="comma-separated shares (e.g. "
                        "0.05,0.1,0.2) of ea-dc's test errors removed on every set, each read as above")
    args = parser.parse_args(argv)
    if args.draws < 1:
        parser.error(f"--draws must be at least 1, got {args.draws}")
    bad_cuts = f"--error-cuts must be comma-separated shares in [0, 1], got {args.error_cuts!r}"
    try:
        cuts = [float(v) for v in args.error_cuts.split(",") if v.strip()]
    except ValueError:
        parser.error(bad_cuts)
    if any(not 0 <= c <= 1 for c in cuts):
        parser.error(bad_cuts)
    bad_counts = f"--seeds-per-run must be comma-separated whole numbers, got {args.seeds_per_run!r}"
    try:
        counts = [int(v) for v in args.seeds_per_run.split(",") if v.strip()]
    except ValueError:
        parser.error(bad_counts)
    if not counts:
        parser.error(bad_counts)
    rows = read_sources(args.rows, args.head)
    scores, sets, seeds = seed_scores(rows)
    if any(not 1 <= k <= scores.shape[2] for k in counts):
        parser.error(f"--seeds-per-run must lie in [1, {scores.shape[2]}] (the seeds every set "
                     f"has), got {args.seeds_per_run!r}")
    means = scores.mean(axis=(0, 2))
    print(f"{len(sets)} data sets, {scores.shape[2]} seeds each (from seeds "
          f"{', '.join(map(str, seeds))}); mean accuracy over sets and seeds: "
          + ", ".join(f"{m} {v:.4f}" for m, v in zip(MODES, means)))
    for k in counts:
        shares = first_shares(scores, args.draws, np.random.default_rng(args.seed), k,
                              args.same_seed)
        runs = "one-seed runs" if k == 1 else f"runs of {k} seeds"
        runs += " (the same seeds for every mode of a set)" if args.same_seed else ""
        print(f"share of {args.draws} simulated {runs} in which each mode is strictly first "
              "on mean rank: " + ", ".join(f"{m} {v:.3f}" for m, v in zip(MODES, shares)))
    if cuts:
        n_test = test_sizes(rows, sets)
    for cut in cuts:
        better = fewer_errors(scores, n_test, cut)
        share = first_shares(better, args.draws, np.random.default_rng(args.seed),
                             same_seed=args.same_seed)[0]
        print(f"{MODES[0]} with {cut:.0%} fewer test errors on every set (mean accuracy "
              f"{better[:, 0].mean():.4f}): strictly first in {share:.3f} of the runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
