"""Compare ways of pooling EA-DC's per-step representations into one embedding, on the
development suite (never on datasets reported as evidence).

One encoder is pre-trained per (dataset, seed) with tsea's defaults; its per-step outputs on the
training and test splits are pooled in several ways and each pooled embedding gets the same SVM
head (the TS2Vec protocol). EAClassifier used "max" until this study; it now uses "max+mean"
(EARegressor keeps "max").

    python benchmarks/pooling_dev.py --data-dir /tmp/tsea-ucr-data --seeds 0,1 \
        --datasets DistalPhalanxOutlineCorrect,GesturePebbleZ1,Adiac,FaceAll,GestureMidAirD1,Fish \
        --out benchmarks/results/dev/pooling.csv

``--study readout`` compares read-outs of the hidden states instead (written to readout.csv):
"max" and "max+mean" as above; "blocks", every dilated block's output (d_model channels)
max-pooled and concatenated; "max+blocks", "max" followed by "blocks" (a multi-scale read-out:
block i sees 2**i-dilated context). That study also ran on five more development datasets:

    python benchmarks/pooling_dev.py --study readout --data-dir /tmp/tsea-ucr-data --seeds 0,1 \
        --datasets DistalPhalanxOutlineCorrect,GesturePebbleZ1,Adiac,FaceAll,GestureMidAirD1,\
Fish,ChlorineConcentration,ECG5000,CricketX,FiftyWords,GesturePebbleZ2 \
        --out benchmarks/results/dev/readout.csv

``--study geometry`` keeps the default "max+mean" (and "max") embeddings but
changes what the SVM sees: "raw" as the estimators do, "centred" (the training embeddings'
per-feature mean subtracted from train and test: distances are unchanged, only
``gamma="scale"``, which is computed from the variance of all entries, changes) and
"standardised" (scikit-learn's StandardScaler fitted on the training embeddings). It prints
how much of the embeddings' variance is between series (mean per-feature variance over the
variance of all entries); written to geometry.csv:

    python benchmarks/pooling_dev.py --study geometry --data-dir /tmp/tsea-ucr-data --seeds 0 \
        --datasets <the eleven above> --out benchmarks/results/dev/geometry.csv

Rows are appended per (dataset, seed); a rerun skips finished ones. A head that cannot be fitted
(libsvm's C=inf refit can fail on badly scaled embeddings) is recorded with its error.
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder, StandardScaler

import tsea
from tsea import nn as tnn
from tsea.estimators._base import torch_threads
from tsea.heads import make_head

FIELDS = ["dataset", "seed", "pooling", "accuracy", "fit_seconds", "error"]


def _forward(enc, X, hows, blocks=False) -> dict[str, np.ndarray]:
    """One pass of the fitted EAEncoder ``enc`` over X, batched as ``enc.transform`` does:
    the output pooled each way in ``hows`` and, with ``blocks``, every dilated block's output
    max-pooled and concatenated (key "blocks")."""
    coll = enc._collection(X)
    Xn = enc._normalize(coll.X)
    lengths = coll.lengths
    encoder = enc.encoder_.eval()
    captured: list[torch.Tensor] = []
    hooks = [
        block.register_forward_hook(lambda _m, _i, out: captured.append(out[0]))
        for block in (encoder.blocks if blocks else ())
    ]
    parts: dict[str, np.ndarray] = {}
    try:
        with torch_threads(1), torch.inference_mode():
            for idx in enc._batches(lengths):
                captured.clear()
                width = int(lengths[idx].max())
                xb = torch.from_numpy(np.ascontiguousarray(Xn[idx, :, :width]))
                lb = torch.from_numpy(lengths[idx])
                mask = tnn.valid_mask(xb, lb)
                H = encoder(xb, lengths=lb)
                got = {how: tnn.pool(H, mask, how) for how in hows}
                if blocks:
                    got["blocks"] = torch.cat(
                        [tnn.pool(h.transpose(1, 2), mask, "max") for h in captured], dim=1
                    )
                for key, value in got.items():
                    if key not in parts:
                        parts[key] = np.empty((len(Xn), value.shape[1]), dtype=np.float32)
                    parts[key][idx] = value.float().numpy()
    finally:
        for hook in hooks:
            hook.remove()
    return parts


def pooled(enc, X) -> dict[str, np.ndarray]:
    """Poolings of the output of the fitted EAEncoder ``enc`` on X, as (n, dim) arrays."""
    z = _forward(enc, X, ("max", "mean", "last"))
    return {
        **z,
        "max+mean": np.concatenate([z["max"], z["mean"]], axis=1),
        "max+last": np.concatenate([z["max"], z["last"]], axis=1),
    }


def readouts(enc, X) -> dict[str, np.ndarray]:
    """Read-outs of the fitted EAEncoder ``enc``'s hidden states on X, as (n, dim) arrays."""
    z = _forward(enc, X, ("max+mean",), blocks=True)
    zmax = z["max+mean"][:, : enc.repr_dim]
    return {
        "max": zmax,
        "max+mean": z["max+mean"],
        "blocks": z["blocks"],
        "max+blocks": np.concatenate([zmax, z["blocks"]], axis=1),
    }


def geometry(enc, Xtr, Xte) -> tuple[dict, dict]:
    """Train and test inputs of the SVM for the geometry study (see the module docstring)."""
    ztr = _forward(enc, Xtr, ("max+mean",))["max+mean"].astype(np.float64)
    zte = _forward(enc, Xte, ("max+mean",))["max+mean"].astype(np.float64)
    train, test = {}, {}
    for name, cols in (("max+mean", slice(None)), ("max", slice(0, enc.repr_dim))):
        a, b = ztr[:, cols], zte[:, cols]
        print(f"  {name}: between-series share of the variance {a.var(0).mean() / a.var():.2e}")
        centre = a.mean(axis=0)
        scaler = StandardScaler().fit(a)
        train[f"{name} raw"], test[f"{name} raw"] = a, b
        train[f"{name} centred"], test[f"{name} centred"] = a - centre, b - centre
        train[f"{name} standardised"] = scaler.transform(a)
        test[f"{name} standardised"] = scaler.transform(b)
    return train, test


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", required=True)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--study", choices=("pooling", "readout", "geometry"), default="pooling")
    args = parser.parse_args(argv)
    done = set()
    if os.path.exists(args.out):
        with open(args.out, newline="") as fh:
            done = {(r["dataset"], r["seed"]) for r in csv.DictReader(fh)}
    for name in args.datasets.split(","):
        for seed in args.seeds.split(","):
            if (name, seed) in done:
                continue
            Xtr, ytr = tsea.datasets.load(name, "train", data_dir=args.data_dir)
            Xte, yte = tsea.datasets.load(name, "test", data_dir=args.data_dir)
            labels = LabelEncoder().fit(ytr)
            ytr_i, yte_i = labels.transform(ytr), labels.transform(yte)
            t0 = time.perf_counter()
            enc = tsea.EAEncoder(random_state=int(seed), n_jobs=1).fit(Xtr)
            fit_s = time.perf_counter() - t0
            if args.study == "geometry":
                train, test = geometry(enc, Xtr, Xte)
            else:
                embed = pooled if args.study == "pooling" else readouts
                train, test = embed(enc, Xtr), embed(enc, Xte)
            rows = []
            for how in train:
                head = make_head("classification", "svm", len(ytr_i), ytr_i)
                try:
                    head.fit(train[how], ytr_i)
                except ValueError as err:  # e.g. libsvm's "dual coefficients ... not finite"
                    acc, error = float("nan"), str(err).splitlines()[0]
                else:
                    acc, error = float(np.mean(head.predict(test[how]) == yte_i)), ""
                rows.append(dict(dataset=name, seed=seed, pooling=how, accuracy=acc,
                                 fit_seconds=round(fit_s, 1), error=error))
                print(name, seed, how, round(acc, 4), flush=True)
            new = not os.path.exists(args.out)
            with open(args.out, "a", newline="") as fh:
                writer = csv.DictWriter(fh, FIELDS)
                if new:
                    writer.writeheader()
                writer.writerows(rows)


if __name__ == "__main__":
    main()
