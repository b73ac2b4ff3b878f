"""Read a benchmark ``results.csv`` the way the adoption rules of BENCHMARKS.md do.

    python benchmarks/compare.py benchmarks/results/dev16/results.csv [--seeds 0,1,2]
        [--reference ts2vec] [--methods a,b,c]

Only datasets on which every listed method has every listed seed are counted (the table says
how many). Per method: the suite mean (mean over datasets of the seed-mean accuracy), the suite
mean of each seed and their standard deviation (the seed spread), the mean rank (rank of the
seed-mean accuracy per dataset, ties averaged, 1 = best), datasets won and lost against the
reference, and the median and maximum fit-time ratio to the reference over datasets.
"""

from __future__ import annotations

import argparse

import pandas as pd


def compare(path: str, seeds: list[int], reference: str, methods: list[str] | None) -> str:
    rows = pd.read_csv(path)
    rows = rows[(rows.status == "ok") & rows.seed.isin(seeds)]
    if methods is None:
        methods = sorted(rows.method.unique())
    rows = rows[rows.method.isin(methods)]
    counts = rows.groupby(["dataset", "method"]).seed.nunique().unstack()
    complete = counts.index[(counts.reindex(columns=methods) == len(seeds)).all(axis=1)]
    rows = rows[rows.dataset.isin(complete)]
    if rows.empty:
        return "no dataset has every method and seed"
    acc = rows.groupby(["dataset", "method"]).score.mean().unstack()[methods]
    per_seed = rows.groupby(["seed", "method", "dataset"]).score.mean().groupby(
        ["seed", "method"]).mean().unstack()[methods]
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
    lines += ["", "Per dataset (seed-mean accuracy):", "",
              "| dataset | " + " | ".join(methods) + " |",
              "|---|" + "---:|" * len(methods)]
    for name, r in acc.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in r) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--reference", default="ts2vec")
    parser.add_argument("--methods", default=None)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",") if args.methods else None
    print(compare(args.results, seeds, args.reference, methods))


if __name__ == "__main__":
    main()
