"""Seed ensembles read from a ``head_study.py`` embedding cache (a diagnostic: no refit).

    python benchmarks/seed_ensemble.py --data-dir DIR --cache CACHE_DIR --methods ea-dc,ts2vec \\
        --seeds 0,1,2 [--members K] [--head logistic]

For each data set with a cached embedding of every listed seed, it prints the head's test
accuracy on each seed's embedding (their mean) and on the seeds' embeddings side by side (one
head on the concatenation: an ensemble of independently pre-trained encoders, at the cost of
one fit per seed), then the means over the data sets. ``--members K`` splits the seeds into
consecutive groups of K, one ensemble each (replicates): the ensemble column is then the mean
over the groups, and the fit column is an ensemble's fit seconds (its members' sum, averaged
over the groups).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.head_study import cache_path, head_score  # noqa: E402
from tsea.datasets import load  # noqa: E402


def seed_groups(seeds, members=None):
    """Consecutive groups of ``members`` seeds (all seeds in one group when None)."""
    members = len(seeds) if members is None else members
    if members < 1 or len(seeds) % members:
        raise ValueError(f"{len(seeds)} seeds do not split into groups of {members}")
    return [seeds[i:i + members] for i in range(0, len(seeds), members)]


def ensemble_rows(data_dir, cache, methods, seeds, head_name="logistic", members=None):
    """``[(dataset, method, mean single-seed accuracy, ensemble accuracy, ensemble fit
    seconds)]`` for every data set whose cache holds all ``seeds`` of the method; with
    ``members``, the ensemble columns are means over the groups of :func:`seed_groups`."""
    groups = seed_groups(seeds, members)
    names = sorted({f.split("__")[0] for f in os.listdir(cache) if f.endswith(".npz")})
    rows = []
    for name in names:
        complete = {m: [cache_path(cache, name, m, s) for s in seeds] for m in methods}
        complete = {m: paths for m, paths in complete.items()
                    if all(os.path.exists(p) for p in paths)}
        if not complete:
            continue
        _, y_train = load(name, split="train", data_dir=data_dir, download=False)
        _, y_test = load(name, split="test", data_dir=data_dir, download=False)
        y_train, y_test = np.asarray(y_train), np.asarray(y_test)
        for method, paths in complete.items():
            zs = [np.load(p) for p in paths]
            single = np.mean([head_score(head_name, z["train"], y_train, z["test"], y_test,
                                         seed)[0] for z, seed in zip(zs, seeds)])
            by_seed = dict(zip(seeds, zs))
            joint = np.mean([
                head_score(head_name, np.hstack([by_seed[s]["train"] for s in group]), y_train,
                           np.hstack([by_seed[s]["test"] for s in group]), y_test, group[0])[0]
                for group in groups])
            fit_s = np.mean([sum(float(by_seed[s]["fit_seconds"]) for s in group)
                             for group in groups])
            rows.append((name, method, float(single), float(joint), float(fit_s)))
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--cache", required=True, help="a head_study.py cache folder")
    p.add_argument("--methods", default="ea-dc")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--members", type=int, default=None,
                   help="seeds per ensemble (consecutive groups); default: all in one")
    p.add_argument("--head", default="logistic")
    args = p.parse_args(argv)
    methods, seeds = args.methods.split(","), [int(s) for s in args.seeds.split(",")]
    try:
        rows = ensemble_rows(args.data_dir, args.cache, methods, seeds, args.head, args.members)
    except ValueError as exc:
        p.error(str(exc))
    print("| dataset | method | mean of single seeds | seeds side by side | ensemble fit s |\n"
          "|---|---|---:|---:|---:|")
    for name, method, single, joint, fit_s in rows:
        print(f"| {name} | {method} | {single:.4f} | {joint:.4f} | {fit_s:.1f} |")
    for method in methods:
        mine = [r for r in rows if r[1] == method]
        if mine:
            print(f"| mean of {len(mine)} sets | {method} | {np.mean([r[2] for r in mine]):.4f} | "
                  f"{np.mean([r[3] for r in mine]):.4f} | "
                  f"{np.median([r[4] for r in mine]):.1f} (median) |")


if __name__ == "__main__":
    main()
