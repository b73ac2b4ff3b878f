"""Why TS2Vec beats tsea on unequal-length datasets: pooling over padding, or training?

    PYTHONPATH=. python benchmarks/unequal_lengths.py --data-dir DIR \
        --datasets GesturePebbleZ1,GestureMidAirD1,PickupGestureWiimoteZ --seeds 0 \
        --out benchmarks/results/dev16/unequal.csv

One TS2Vec reference model and one tsea ``ts2vec-like`` model are trained per dataset and seed
(as ``tsea benchmark`` trains them); each is then read out in several ways, with the same SVM
head (``tsea.heads``):

- ``ts2vec/full-width``: TS2Vec's own encoding, every series NaN-padded to the longest one and
  max-pooled over all steps, padding included (the benchmark's reference numbers);
- ``ts2vec/valid``: the same model, each series encoded at its own length (max over its steps);
- ``tsea/valid``: tsea's encoding (max over valid steps only; padding never reaches them);
- ``tsea/full-width``: the same tsea model, each series zero-filled (as observed zeros, after
  normalisation) to the longest length, max over all steps, as TS2Vec reads it.

If ``ts2vec/valid`` falls to ``tsea/valid`` and ``tsea/full-width`` rises to
``ts2vec/full-width``, the gap is the readout (the amount of padding tells the series'
length), not the training.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tsea.benchmark.baselines import _standardise, as_series_list, common_length, pad_to  # noqa: E402
from tsea.config import load_config  # noqa: E402
from tsea.datasets import load  # noqa: E402
from tsea.heads import make_head  # noqa: E402
from tsea.utils import seeded  # noqa: E402


def trimmed(series):
    """Each (C, L) series without its trailing all-NaN steps (the archive's end padding)."""
    out = []
    for s in series:
        seen = np.flatnonzero(~np.isnan(s).all(axis=0))
        out.append(s[:, : seen[-1] + 1])
    return out


def score(Ztr, ytr, Zte, yte) -> float:
    head = make_head("classification", "svm", len(Ztr), ytr)
    head.fit(Ztr, ytr)
    return float(np.mean(head.predict(Zte) == yte))


def ts2vec_readouts(tr, te, ytr, yte, seed) -> dict:
    from ts2vec import TS2Vec

    length = common_length(tr, te)
    A, B = _standardise(pad_to(tr, length, np.nan), pad_to(te, length, np.nan))
    A, B = A.transpose(0, 2, 1).copy(), B.transpose(0, 2, 1).copy()  # (n, T, C)
    with seeded(seed):
        model = TS2Vec(input_dims=A.shape[2], device="cpu", batch_size=8, lr=0.001,
                       output_dims=320, max_train_length=3000)
        model.fit(A, verbose=False)

    def own_length(S, series):
        out = []
        for s, raw in zip(S, series):
            n = raw.shape[1]
            out.append(model.encode(s[None, :n], encoding_window="full_series")[0])
        return np.stack(out)

    full = (model.encode(A, encoding_window="full_series"),
            model.encode(B, encoding_window="full_series"))
    valid = (own_length(A, tr), own_length(B, te))
    return {"ts2vec/full-width": score(full[0], ytr, full[1], yte),
            "ts2vec/valid": score(valid[0], ytr, valid[1], yte)}


def tsea_readouts(tr, te, ytr, yte, seed) -> dict:
    from tsea import EAEncoder

    enc = EAEncoder(**{**load_config("ts2vec-like"), "random_state": seed, "n_jobs": 1}).fit(tr)
    valid = enc.transform(tr), enc.transform(te)
    length = common_length(tr, te)

    def zero_filled(series):
        # filled with the channel means: zeros of the encoder's (normalised) input, as in TS2Vec
        out = np.repeat(enc.channel_mean_[None, :, None], len(series), 0).repeat(length, 2)
        for i, s in enumerate(series):
            out[i, :, : s.shape[1]] = s
        return out

    full = enc.transform(zero_filled(tr)), enc.transform(zero_filled(te))
    return {"tsea/valid": score(valid[0], ytr, valid[1], yte),
            "tsea/full-width": score(full[0], ytr, full[1], yte)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--datasets", required=True)
    p.add_argument("--seeds", default="0")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    new = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["dataset", "seed", "readout", "accuracy", "seconds"])
        for name in args.datasets.split(","):
            Xtr, ytr = load(name, split="train", data_dir=args.data_dir)
            Xte, yte = load(name, split="test", data_dir=args.data_dir)
            tr, te = trimmed(as_series_list(Xtr, "X_train")), trimmed(as_series_list(Xte, "X_test"))
            ytr, yte = np.asarray(ytr), np.asarray(yte)
            for seed in map(int, args.seeds.split(",")):
                for fn in (ts2vec_readouts, tsea_readouts):
                    t0 = time.perf_counter()
                    scores = fn(tr, te, ytr, yte, seed)
                    for readout, acc in scores.items():
                        w.writerow([name, seed, readout, f"{acc:.6f}", round(time.perf_counter() - t0, 1)])
                        print(name, seed, readout, f"{acc:.4f}", flush=True)
                    fh.flush()


if __name__ == "__main__":
    main()
