"""The one table of estimator parameters, and the names every layer agrees on.

Each parameter is defined once here: default, allowed values, one-line doc. The estimators'
signatures, their validation in ``fit``, the presets' keys, the command line's ``--set``, the
values read for old model files and docs/PARAMETERS.md all come from :data:`ENCODER_PARAMS` and
:data:`HEAD_PARAMS`. Torch-free, so that the command line can check arguments before torch loads.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)

#: Attention modes of the encoder; ``"none"`` has no attention channels (the conv backbone).
ATTENTION_MODES = ("none", "vanilla", "residual", "evolving", "reuse")
#: How attention channels join the convolution's (see :mod:`tsea.nn.blocks`).
ATTENTION_MERGES = ("concat", "gated")
#: How per-step representations become one vector per series; ``"max+mean"`` concatenates.
POOLINGS = ("max", "mean", "last", "max+mean")
#: How a series shorter than the training width is read (see :mod:`tsea.nn.inference`).
READOUTS = ("valid", "canvas")
NORMALIZE_MODES = ("channel", "series", None)
OBJECTIVES = ("masked", "contrastive", "hybrid")
#: What the hybrid objective reconstructs (see :mod:`tsea.training.hybrid`).
HYBRID_MASKS = ("values", "timestamps")
#: The most blocks ``depth="auto"`` gives (a receptive field of 509 steps at kernel 3); deeper
#: was no better on the first development suite (BENCHMARKS.md).
AUTO_MAX_DEPTH = 7
#: Block layouts of the encoder (see :mod:`tsea.nn.blocks`).
BLOCKS = ("transformer", "preact")
#: Where the contrastive views are cropped (see :mod:`tsea.training.contrastive`).
CROPS = ("valid", "canvas", "ts2vec")
#: Which end of the stack of blocks carries the attention channels (see :mod:`tsea.nn.encoder`).
ATTENTION_PLACES = ("top", "bottom")
#: How the 3x3 convolution over attention maps starts (see :mod:`tsea.nn.map_conv`).
MAP_INITS = ("torch", "identity")
#: Which series SoftCLT's instance-wise DTW distances are taken among (see :mod:`tsea.training.soft`).
SOFT_SCOPES = ("train", "batch")
#: Table names that the network (``EADCEncoder``'s arguments) calls otherwise.
NN_NAMES = {"attention": "mode"}
CLASSIFICATION_HEADS = ("logistic", "svm", "ridge", "finetune")
REGRESSION_HEADS = ("ridge", "svr", "finetune")


# --------------------------------------------------------------------------- the parameter table
class _Missing:
    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class Param:
    """One estimator parameter: default, allowed values, one-line doc.

    ``constraints`` uses scikit-learn's ``_parameter_constraints`` language (checked once when
    ``fit`` starts, and on ``--set``); ``legacy`` is the value that models pickled or saved
    before the parameter existed behaved as (``MISSING``: the parameter is as old as the format).
    """

    default: Any
    constraints: list
    doc: str
    group: str
    legacy: Any = MISSING


def _pos_int():
    return Interval(Integral, 1, None, closed="left")


def _fraction(closed="both"):
    return Interval(Real, 0, 1, closed=closed)


def _pooling(default: str, group: str) -> Param:
    # before the parameter existed every estimator pooled with max
    return Param(default, [StrOptions(set(POOLINGS))],
                 "per-step representations to one vector: " + " | ".join(POOLINGS)
                 + " (max+mean: the two side by side)", group, legacy="max")


#: The encoder's parameters, shared by EAEncoder, EAClassifier and EARegressor, in the order of
#: their signatures. Presets, ``--set``, model files and docs/PARAMETERS.md read this table.
ENCODER_PARAMS: dict[str, Param] = {
    # architecture
    "repr_dim": Param(640, [_pos_int()], "embedding size (per pooling; TS2Vec's is 320)",
                      "architecture"),
    "d_model": Param(64, [_pos_int()], "channels inside the blocks", "architecture"),
    "depth": Param(10, [_pos_int(), StrOptions({"auto"})],
                   "dilated blocks (block i has dilation 2**i; TS2Vec's 10 by default); auto: the "
                   f"fewest, at most {AUTO_MAX_DEPTH}, whose receptive field covers the longest training series "
                   "(depth_ after fit)", "architecture"),
    "n_heads": Param(8, [_pos_int()], "attention heads", "architecture"),
    "kernel_size": Param(3, [_pos_int()], "kernel of the dilated convolutions", "architecture"),
    "block": Param("preact", [StrOptions(set(BLOCKS))],
                   "preact: x + s2(gelu(s1(gelu(x)))), no FFN or norm, dropout on the output "
                   "(TS2Vec's); transformer: each sub-layer followed by an FFN, residual and "
                   "LayerNorm (the EA-DC-Transformer authors')", "architecture",
                   legacy="transformer"),
    "causal": Param(False, ["boolean"],
                    "causal (left) padding of the convolutions (the EA-DC-Transformer authors'); "
                    "False: same padding (TS2Vec's)",
                    "architecture", legacy=True),
    "output_block": Param(False, ["boolean"],
                          "end in TS2Vec's output block (a preact block d_model -> repr_dim, "
                          "dilation 2**depth, 1x1 conv on the residual) instead of a per-step "
                          "Linear", "architecture", legacy=False),
    "attention": Param("evolving", [StrOptions(set(ATTENTION_MODES))],
                       "attention mode: " + " | ".join(ATTENTION_MODES), "architecture"),
    "attention_merge": Param("concat", [StrOptions(set(ATTENTION_MERGES))],
                             "concat: the attention outputs take d_v of the sub-layer's "
                             "channels (the EA-DC-Transformer authors'); gated: the convolution "
                             "keeps every channel and the attention output is added through a "
                             "zero-initialised 1x1 projection, so training starts from the "
                             "attention-free backbone", "architecture", legacy="concat"),
    "attention_norm": Param(True, ["boolean"],
                            "LayerNorm the attention tokens before the query/key projection and "
                            "start that projection at std 1/sqrt(d_model), so the logits start "
                            "at unit variance (False: torch's default start, near-uniform maps "
                            "with narrow heads)", "architecture", legacy=False),
    "alpha": Param(0.5, [_fraction()], "weight of the map convolution (evolving)", "architecture"),
    "map_init": Param("torch", [StrOptions(set(MAP_INITS))],
                      "start of evolving's 3x3 map convolution: torch: nn.Conv2d's random "
                      "start; identity: each head's centre tap 1, every other weight and the "
                      "bias 0, so training starts from alpha relu(M) + (1 - alpha) M",
                      "architecture", legacy="torch"),
    "paired_init": Param(False, ["boolean"],
                         "start every weight the attention modes share from the same values at "
                         "the same seed: the attention modules draw from their own streams and "
                         "an attended layer's convolution keeps the first rows of a full-width "
                         "draw, so ablations differ only in the ablated part (False: one stream "
                         "in build order)", "architecture", legacy=False),
    "beta": Param(0.3, [_fraction()], "weight of the previous layer's logits (residual, evolving)",
                  "architecture"),
    "reuse_heads": Param(None, [_pos_int(), None],
                         "heads that reuse the previous maps (reuse); None: n_heads // 2",
                         "architecture"),
    "k_ratio": Param(0.25, [_fraction("right")], "d_k = k_ratio * channels", "architecture"),
    "v_ratio": Param(0.25, [_fraction("right")],
                     "d_v = v_ratio * channels (the attention channels)", "architecture"),
    "attention_blocks": Param(3, [_pos_int(), None],
                              "only attention_blocks blocks carry attention channels, the top "
                              "ones by default (attention_place; the others are plain "
                              "convolutions); None: every block",
                              "architecture", legacy=None),
    "attention_place": Param("top", [StrOptions(set(ATTENTION_PLACES))],
                             "which attention_blocks blocks carry attention: top: the last ones "
                             "(largest dilations, tokens that already see the whole series); "
                             "bottom: the first ones (dilations 1, 2, 4, ..., local tokens)",
                             "architecture", legacy="top"),
    "max_attention_len": Param(64, [_pos_int()],
                               "longer series attend over pooled tokens (bounded memory)",
                               "architecture"),
    "dropout": Param(0.1, [Interval(Real, 0, 1, closed="left")], "dropout rate", "architecture"),
    "n_encoders": Param(1, [Interval(Integral, 1, 64, closed="both")],
                        "encoders pre-trained independently, their representations side by side "
                        "(an ensemble): each has repr_dim / n_encoders features (a divisor) and "
                        "1 / n_encoders of the step budget (n_iters, TS2Vec's rule or max_epochs; "
                        "rounded up), so a fit costs about one encoder's; encoder i of seed s "
                        "trains with seed (s * n_encoders + i) mod 2**32", "architecture", legacy=1),
    # pre-training
    "objective": Param("contrastive", [StrOptions(set(OBJECTIVES))],
                       "pre-training objective: " + " | ".join(OBJECTIVES), "pre-training"),
    "objective_weights": Param(None, [dict, list, tuple, None],
                               "hybrid weights {masked: w, contrastive: w} or a pair; "
                               "None: 0.5 / 0.5", "pre-training"),
    "n_iters": Param(None, [_pos_int(), StrOptions({"ts2vec"}), None],
                     "optimizer steps; None (with max_epochs None): TS2Vec's budget, 200 up to "
                     "100,000 training values (n * C * L), 600 above; ts2vec: that budget even "
                     "with max_epochs", "pre-training"),
    "max_epochs": Param(None, [_pos_int(), None], "passes over the data; None: no limit",
                        "pre-training"),
    "batch_size": Param(8, [_pos_int()], "series per batch", "pre-training"),
    "lr": Param(1e-3, [Interval(Real, 0, None, closed="neither")], "learning rate (AdamW)",
                "pre-training"),
    "grad_clip": Param(5.0, [Interval(Real, 0, None, closed="left")],
                       "gradients are clipped to this global L2 norm before each step; 0: no "
                       "clipping (TS2Vec's)", "pre-training", legacy=5.0),
    "warmup": Param(0.0, [Interval(Real, 0, 1, closed="left")],
                    "share of the optimizer steps over which the learning rate rises linearly "
                    "to lr (step k of n_w runs at lr (k + 1) / n_w); 0: lr from the first step "
                    "(TS2Vec's)", "pre-training", legacy=0.0),
    "max_train_length": Param(3000, [_pos_int()],
                              "longer series are cropped to this many steps for training",
                              "pre-training"),
    "weight_averaging": Param(True, ["boolean"],
                              "return the equal-weight average of the weights over all steps "
                              "(as TS2Vec)", "pre-training"),
    "averaging_start": Param(0.0, [Interval(Real, 0, 1, closed="left")],
                             "with weight_averaging, the share of the optimizer steps taken "
                             "before the average starts; 0: every step's weights (TS2Vec's)",
                             "pre-training", legacy=0.0),
    "hybrid_masks": Param("values", [StrOptions(set(HYBRID_MASKS))],
                          "what the hybrid objective reconstructs: value-masked values (values) "
                          "or the steps the contrastive timestamp mask hides (timestamps)",
                          "pre-training", legacy="values"),
    "crops": Param("canvas", [StrOptions(set(CROPS))],
                   "contrastive views: valid: inside each series, at most as long as the "
                   "shortest series of the batch; canvas: TS2Vec's draws, series centred in "
                   "the batch's width and views cropped from it, their padding invalid steps "
                   "that no convolution reads; ts2vec: canvas crops read as TS2Vec reads them, "
                   "every all-NaN step (padding or missing) an observed step of zeros with a "
                   "masked input projection, which the convolutions read through (the "
                   "training side of readout='canvas')",
                   "pre-training", legacy="valid"),
    "soft_instance": Param(5.0, [Interval(Real, 0, None, closed="neither"), None],
                           "SoftCLT: soft instance-wise contrastive targets 2a sigmoid(-tau D) "
                           "from DTW distances D between training series (a = 0.5, tau = this "
                           "value; which series: soft_scope); None: TS2Vec's hard targets. "
                           "The masked objective has no contrastive loss and ignores it",
                           "pre-training", legacy=None),
    "soft_scope": Param("batch", [StrOptions(set(SOFT_SCOPES))],
                        "where soft_instance's DTW distances come from: batch: the series of "
                        "each batch, min-max scaled over the batch (O(B^2 L^2) per step, bounded "
                        "by the step budget); train: the whole training set, scaled over it "
                        "(SoftCLT's form; O(n^2 L^2) time and n^2 memory, once per fit)",
                        "pre-training", legacy="train"),
    "soft_temporal": Param(1.0, [Interval(Real, 0, None, closed="neither"), None],
                           "SoftCLT: soft temporal contrastive targets 2 sigmoid(-tau 2**d "
                           "|t - t'|) at hierarchy level d (tau = this value); None: TS2Vec's "
                           "hard targets. The masked objective ignores it",
                           "pre-training", legacy=None),
    "pooling": _pooling("max", "embedding"),
    "readout": Param("valid", [StrOptions(set(READOUTS))],
                     "valid: each series read at its own length, padding never reaches it; "
                     "canvas: TS2Vec's readout, a series shorter than the longest training "
                     "series (train_length_) is read in a window of that width, the steps past "
                     "its end entering the convolutions with a zero input projection and the "
                     "pooling, so the embedding also reflects the series' length",
                     "embedding", legacy="valid"),
    # input features and normalisation, runtime
    "differences": Param(True, ["boolean"],
                         "also show the network each channel's first differences x[t] - x[t-1] "
                         "(0 at the first step), as C more input channels normalised like the "
                         "values", "runtime", legacy=False),
    "normalize": Param("channel", [StrOptions({m for m in NORMALIZE_MODES if m}), None],
                       "channel: per-channel mean/std learned in fit; series: per-series "
                       "z-normalisation; None: raw values", "runtime"),
    "device": Param("auto", [str], "auto (CUDA when available), cpu, cuda, cuda:N, ...",
                    "runtime"),
    "n_jobs": Param(None, [Interval(Integral, None, -1, closed="right"), _pos_int(), None],
                    "torch CPU threads in fit/transform; None: every usable core, at most 8 and "
                    "at most OMP_NUM_THREADS where set (joblib sets it in its workers, e.g. "
                    "under GridSearchCV(n_jobs=k)); -1: every core; 1 when several fits share "
                    "the machine", "runtime"),
    "random_state": Param(None, ["random_state"],
                          "same seed, same machine: same embeddings", "runtime"),
    "verbose": Param(False, ["verbose"], "progress bars (the command line shows them unless "
                     "--quiet)", "runtime"),
    "trainer_kwargs": Param(None, [dict, None], "passed to lightning.Trainer (devices, strategy, "
                            "precision, ...)", "runtime"),
    "run_dir": Param(None, [str, None],
                     "folder for pre-training's CSV log (logs/) and Lightning checkpoints "
                     "(checkpoints/last.ckpt, best.ckpt), from which fit(..., resume_from=...) "
                     "continues an interrupted fit; one subfolder member-K per encoder with "
                     "n_encoders > 1; None: nothing is written", "runtime", legacy=None),
}

#: Parameters of the supervised estimators on top of ENCODER_PARAMS (defaults differ by task).
HEAD_PARAMS = {
    "classification": {
        "head": Param("logistic", [StrOptions(set(CLASSIFICATION_HEADS))],
                      "logistic (standardise + LogisticRegression) | svm (TS2Vec protocol) | "
                      "ridge | finetune (end to end from the logistic head, which is then refitted)", "head"),
        "pooling": _pooling("max", "head"),
        "class_weight": Param(None, [StrOptions({"balanced"}), dict, None],
                              "None: every series counts alike in the head's loss | balanced: "
                              "each class weighs inversely to its share of the training series | "
                              "{label: weight}: as given, 1 for a class not named (the linear "
                              "probe of finetune too)", "head", legacy=None),
    },
    "regression": {
        "head": Param("ridge", [StrOptions(set(REGRESSION_HEADS))],
                      "ridge (standardise + RidgeCV) | svr | finetune (end to end from the ridge head, which is then refitted)", "head"),
        "pooling": _pooling("max", "head"),
    },
}


#: Parameters that may change between ``fit`` and the use of the fitted model: how it runs,
#: not what it is. EAEncoder also reads ``pooling`` and ``readout`` per call; the supervised
#: estimators' heads were fitted on one pooling and readout, so for them those are fixed too.
CHANGEABLE_AFTER_FIT = ("device", "n_jobs", "verbose", "trainer_kwargs", "run_dir")
ENCODER_CHANGEABLE_AFTER_FIT = (*CHANGEABLE_AFTER_FIT, "pooling", "readout")


#: Parameters of the supervised estimators that the encoder does not have.
HEAD_ONLY_NAMES = sorted({name for table in HEAD_PARAMS.values() for name in table}
                         - set(ENCODER_PARAMS))


def estimator_params(task: str | None = None) -> dict[str, Param]:
    """The table of one estimator: ``task`` None for EAEncoder, else its head parameters first."""
    if task is None:
        return dict(ENCODER_PARAMS)
    head = HEAD_PARAMS[task]
    return {**head, **{k: v for k, v in ENCODER_PARAMS.items() if k not in head}}


def defaults(task: str | None = None) -> dict:
    return {name: p.default for name, p in estimator_params(task).items()}


def legacy_values(task: str | None = None) -> dict:
    """Values for parameters missing from old pickles and model files."""
    return {n: p.legacy for n, p in estimator_params(task).items() if p.legacy is not MISSING}


def validate(params: dict, *, task: str | None = None, caller: str = "tsea") -> None:
    """InvalidParameterError (a ValueError) naming the first parameter whose value the table
    does not allow: ``"EAEncoder: depth must be ... Got 'abc' instead."``. Unknown names are
    the caller's business (see :mod:`tsea.config`)."""
    table = estimator_params(task)
    for name, value in params.items():
        if name not in table:
            continue
        allowed = table[name].constraints
        if isinstance(value, bool) and not {"boolean", "verbose"} & set(map(str, allowed)):
            raise InvalidParameterError(f"{caller}: {name} must not be a bool. Got {value!r} instead.")
        try:
            validate_parameter_constraints({name: allowed}, {name: value}, caller_name="_")
        except InvalidParameterError as exc:
            # scikit-learn says "The 'name' parameter of _ must be ..."
            detail = str(exc).split(" parameter of _ ", 1)[-1]
            raise InvalidParameterError(f"{caller}: {name} {detail}") from None


def to_file(params: dict) -> dict:
    """``params`` in the form a model file's JSON keeps: numpy scalars (a grid search over
    ``np.arange`` gives them) become Python numbers, and a ``class_weight`` dict becomes a list
    of ``[label, weight]`` pairs, because JSON would turn integer labels into text keys."""
    params = {name: plain_value(value) for name, value in params.items()}
    cw = params.get("class_weight")
    if not isinstance(cw, dict):
        return params
    pairs = [[k, float(w)] for k, w in cw.items()]
    return {**params, "class_weight": pairs}


def plain_value(value):
    """``value`` with numpy scalars, inside lists and dicts too, as Python scalars."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {plain_value(k): plain_value(v) for k, v in value.items()}
    return value


def from_file(params: dict) -> dict:
    """The inverse of :func:`to_file` on the ``params`` read from a model file."""
    cw = params.get("class_weight")
    if not isinstance(cw, list):
        return dict(params)
    try:
        return {**params, "class_weight": {label: weight for label, weight in cw}}
    except (TypeError, ValueError):  # an unhashable label or a pair of the wrong size
        raise ValueError(f"class_weight in the model file is not a list of [label, weight] "
                         f"pairs: {cw!r}") from None


def docstring_section(task: str | None = None) -> str:
    """The numpydoc ``Parameters`` section of one estimator, from the table."""
    lines = ["Parameters", "----------"]
    for name, p in estimator_params(task).items():
        lines.append(f"{name} : default={p.default!r}")
        lines.extend(textwrap.wrap(p.doc + ".", 88, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


def markdown_page() -> str:
    """docs/PARAMETERS.md (``python -m tsea.params`` prints it; a test keeps the file equal)."""
    intro = (
        "# Estimator parameters\n\n"
        "Generated from `tsea/params.py`, the one table of parameters: "
        "`python -m tsea.params > docs/PARAMETERS.md` rewrites this page, and a test keeps the "
        "two equal. `EAEncoder` takes the encoder parameters; `EAClassifier` and `EARegressor` "
        "take them too, plus `head`, with their own `pooling` default. Config files and "
        "`--set` take the encoder parameters.\n\n"
    )
    rows = ["| parameter | default | group | meaning |", "|---|---|---|---|"]
    tables = [(None, ENCODER_PARAMS)] + [(t, h) for t, h in HEAD_PARAMS.items()]
    for task, table in tables:
        for name, p in table.items():
            owner = {"classification": "EAClassifier", "regression": "EARegressor"}.get(task)
            label = name if owner is None else f"{name} ({owner})"
            doc = p.doc.replace("|", "\\|")  # a bare | would end the cell
            rows.append(f"| `{label}` | `{p.default!r}` | {p.group} | {doc} |")
    return intro + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_page(), end="")
