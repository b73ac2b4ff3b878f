"""Read benchmark rows the way the adoption rules of BENCHMARKS.md do.

    python benchmarks/compare.py benchmarks/results/dev16/results.csv [--seeds 0,1,2]
        [--reference ts2vec] [--methods a,b,c] [--diff a-b,c-d]

Rows may come from several sources, named as in ``goals.py`` (``PATH:A,OLD=NEW`` takes and
renames methods; ``--head`` picks a ``head_study.py`` csv's head), e.g. a stored default beside
a new run of its ablations:

    python benchmarks/compare.py benchmarks/results/wide/dev.csv:r640-soft-batch=soft-E \
        benchmarks/results/soft-ablations/dev.csv:ablation-none=soft-N --head logistic \
        --seeds 0,1,2 --reference soft-N --diff soft-E-soft-N

Only datasets on which every listed method has every listed seed are counted (the table says
how many). Per method: the suite mean (mean over datasets of the seed-mean accuracy), the suite
mean of each seed and their standard deviation (the seed spread), the mean rank (rank of the
seed-mean accuracy per dataset, ties averaged, 1 = best), datasets won and lost against the
reference, and the median and maximum fit-time ratio to the reference over datasets. Each
``--diff A-B`` adds a per-dataset column of A's minus B's seed-mean accuracy (in points) with its
mean, wins / losses and, with two seeds or more, the mean's standard error over seeds: each
dataset's paired differences A - B at each seed vary from seed to seed; the error is
``sqrt(sum of those variances / n_seeds) / n_datasets``, so it says how far another draw of as
many seeds could move the mean on the same datasets (not how it would carry over to others).
The seed spread of a paired difference, ``sqrt(mean of those variances)``, is the same noise
for one dataset and one seed: how far a single run's A - B strays from A - B over seeds, which
is what decides a one-seed rank.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from goals import read_sources  # noqa: E402


def _pairs(diffs: Sequence[str], methods: list[str]) -> list[tuple[str, str]]:
    """``A-B`` -> (A, B), split at the one dash that leaves two listed methods."""
    pairs = []
    for d in diffs:
        splits = [(d[:i], d[i + 1:]) for i, c in enumerate(d) if c == "-"]
        found = [(a, b) for a, b in splits if a in methods and b in methods]
        if len(found) != 1:
            raise SystemExit(f"--diff {d!r}: give A-B with A and B among the methods {methods}")
        pairs.append(found[0])
    return pairs


def compare(rows, seeds: list[int], reference: str, methods: list[str] | None,
            diffs: Sequence[str] = ()) -> str:
    """``rows``: a results file's path or a frame in its layout (``goals.read_sources``)."""
    if isinstance(rows, str):
        rows = pd.read_csv(rows)
    rows = rows[(rows.status == "ok") & rows.seed.isin(seeds)]
    if methods is None:
        methods = sorted(rows.method.unique())
    pairs = _pairs(diffs, methods)
    rows = rows[rows.method.isin(methods)]
    counts = rows.groupby(["dataset", "method"]).seed.nunique().unstack()
    complete = counts.index[(counts.reindex(columns=methods) == len(seeds)).all(axis=1)]
    rows = rows[rows.dataset.isin(complete)]
    if rows.empty:
        return "no dataset has every method and seed"
    acc = rows.groupby(["dataset", "method"]).score.mean().unstack()[methods]
    cells = rows.groupby(["dataset", "seed", "method"]).score.mean()
    per_seed = cells.groupby(["seed", "method"]).mean().unstack()[methods]
    fit = rows.groupby(["dataset", "method"]).fit_seconds.median().unstack()[methods]
    ranks = acc.rank(axis=1, ascending=False).mean()
    lines = [
        f"{len(acc)} complete datasets, seeds {','.join(map(str, seeds))}, reference {reference}",
        "",
        "| method | suite mean | per seed | seed spread | mean rank | vs ref +/- | "
        "fit s median | fit / ref median (max) |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for m in methods:
        ratio = fit[m] / fit[reference] if reference in fit else None
        wins = (acc[m] > acc[reference]).sum() if reference in acc else 0
        losses = (acc[m] < acc[reference]).sum() if reference in acc else 0
        lines.append(
            f"| {m} | {acc[m].mean():.4f} | {' / '.join(f'{v:.4f}' for v in per_seed[m])} | "
            f"{per_seed[m].std(ddof=0) if len(seeds) > 1 else float('nan'):.4f} | "
            f"{ranks[m]:.2f} | {wins} / {losses} | {fit[m].median():.1f} | "
            + (f"{ratio.median():.2f}x ({ratio.max():.2f}x)" if ratio is not None else "") + " |"
        )
    delta = pd.DataFrame({f"{a} - {b}": 100 * (acc[a] - acc[b]) for a, b in pairs},
                         index=acc.index)
    lines += ["", "Per dataset (seed-mean accuracy; differences in points):", "",
              "| dataset | " + " | ".join(methods + list(delta.columns)) + " |",
              "|---|" + "---:|" * (len(methods) + delta.shape[1])]
    for name, r in acc.iterrows():
        lines.append(f"| {name} | " + " | ".join(
            [f"{v:.4f}" for v in r] + [f"{v:+.2f}" for v in delta.loc[name]]) + " |")
    if len(delta.columns):
        lines.append("| mean | " + " | ".join(
            [f"{v:.4f}" for v in acc.mean()] + [f"{v:+.2f}" for v in delta.mean()]) + " |")
        lines.append("| wins / losses | " + " | ".join(
            [""] * len(methods) + [f"{(delta[c] > 0).sum()} / {(delta[c] < 0).sum()}"
                                   for c in delta.columns]) + " |")
        if len(seeds) > 1:
            by_seed = cells.unstack()
            paired = [100 * (by_seed[a] - by_seed[b]) for a, b in pairs]
            lines.append("| standard error over seeds | " + " | ".join(
                [""] * len(methods) + [f"{seed_error(p, len(seeds)):.2f}" for p in paired]) + " |")
            lines.append("| seed spread of the paired difference | " + " | ".join(
                [""] * len(methods) + [f"{seed_spread(p):.2f}" for p in paired]) + " |")
    return "\n".join(lines)


def seed_spread(paired: pd.Series) -> float:
    """Root mean over datasets of the variance over seeds of ``paired`` (dataset, seed)."""
    return float(paired.groupby(level="dataset").var(ddof=1).mean() ** 0.5)


def seed_error(paired: pd.Series, n_seeds: int) -> float:
    """Standard error of the suite mean of ``paired`` (indexed by dataset and seed) over seeds:
    the seed spread over the square root of all the (dataset, seed) cells."""
    n_datasets = paired.index.get_level_values("dataset").nunique()
    return seed_spread(paired) / (n_datasets * n_seeds) ** 0.5


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="+",
                        help="results files, benchmark folders or head_study.py csvs, each "
                             "optionally PATH:METHOD[,OLD=NEW...]")
    parser.add_argument("--head", default=None, help="the head to read from a head_study.py csv")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--reference", default="ts2vec")
    parser.add_argument("--methods", default=None)
    parser.add_argument("--diff", default="", help="comma-separated A-B pairs of methods")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = read_sources(args.rows, args.head)
    methods = args.methods.split(",") if args.methods else None
    diffs = [d for d in args.diff.split(",") if d]
    print(compare(rows, seeds, args.reference, methods, diffs))


if __name__ == "__main__":
    main()
