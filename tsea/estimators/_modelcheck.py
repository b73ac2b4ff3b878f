"""A model file checked before anything is built: its encoder (:func:`check_encoder_model`)
and a classifier's or regressor's head (:func:`check_head_model`).

It runs on what :func:`tsea.modelfile.read_model` returns (a container already checked for sizes
and structure), after the parameters were checked against the table, and adds the checks of an
encoder: the declared architecture within
:data:`ARCH_LIMITS` and at most ``tsea.modelfile.MAX_ARRAY_BYTES / 4`` float32 weights (counted
on PyTorch's ``meta`` device, which allocates nothing), the stored weights exactly the names and
shapes of that architecture, the normalisation statistics present iff ``normalize`` is
"channel" (finite in float32, ``channel_std > 0``,
one value per input channel), ``n_jobs`` None or an integer of magnitude at most 4096.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from tsea import modelfile
from tsea.nn import encoder_from_config
from tsea.params import ENCODER_PARAMS, NN_NAMES

__all__ = ["ARCH_LIMITS", "check_encoder_model", "check_head_model"]

#: Largest value of each integer of an encoder's architecture (``encoder_config``).
ARCH_LIMITS = {
    "in_channels": 100_000,
    "repr_dim": 65_536,
    "d_model": 16_384,
    "depth": 64,
    "kernel_size": 1_024,
    "n_heads": 1_024,
    "reuse_heads": 1_024,
    "attention_blocks": 64,
    "max_attention_len": 65_536,
    "n_encoders": 64,
}
_ARCH_FLOATS = {"k_ratio": 64.0, "v_ratio": 64.0, "alpha": 1.0, "beta": 1.0, "dropout": 1.0,
                "ffn_ratio": 64.0}


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _check_int(bad: str, where: str, value, low: int, high: int) -> int:
    if not _is_int(value) or not low <= value <= high:
        raise ValueError(
            f"{bad}: {where} is {value!r}; expected an integer in [{low}, {high}]"
        )
    return int(value)


def _check_arch(bad: str, cfg) -> dict:
    if not isinstance(cfg, dict):
        raise ValueError(f"{bad}: meta 'encoder_config' is {type(cfg).__name__}, not an object")
    for name, high in ARCH_LIMITS.items():
        if name == "attention_blocks" and cfg.get(name) is None:
            continue  # None: every block
        if name in cfg or name == "in_channels":
            _check_int(bad, f"encoder_config[{name!r}]", cfg.get(name), 0 if name == "reuse_heads" else 1, high)
    for name, high in _ARCH_FLOATS.items():
        v = cfg.get(name)
        if v is not None and not (
            isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v <= high
            and math.isfinite(v)
        ):
            raise ValueError(f"{bad}: encoder_config[{name!r}] is {v!r}; expected a number in [0, {high}]")
    for name in ("mode", "map_conv", "block", "attention_merge", "map_init", "attention_place"):
        if name in cfg and not isinstance(cfg[name], str):
            raise ValueError(f"{bad}: encoder_config[{name!r}] is {cfg[name]!r}, not a string")
    return cfg


def check_encoder_model(
    path, params: dict, meta: dict, arrays: dict, *, kind: str = "EAEncoder",
    weights_prefix: str = "weights/",
) -> dict:
    """Validate the encoder of a model file (an EAEncoder, EAClassifier or EARegressor, named by
    ``kind`` in messages) read by :func:`tsea.modelfile.read_model`, before any network is built.

    Returns the architecture (``meta["encoder_config"]``); ValueError naming the problem.
    ``params["normalize"] == "channel"`` requires ``channel_mean`` and ``channel_std`` (one
    finite value per input channel, std > 0: twice ``n_channels`` with ``differences``); other
    modes require their absence.
    """
    bad = f"{str(path)!r} is not a valid {kind} model file"
    cfg = _check_arch(bad, meta.get("encoder_config"))
    n_channels = _check_int(bad, "meta 'n_channels'", meta.get("n_channels"), 1, ARCH_LIMITS["in_channels"])
    _check_int(bad, "meta 'seed'", meta.get("seed"), 0, 2**63 - 1)
    if "train_length" in meta:  # absent from files written before readout="canvas" existed
        _check_int(bad, "meta 'train_length'", meta["train_length"], 1, 2**31 - 1)
    differences = params.get("differences", False)  # a bool: the table checked the params
    n_inputs = 2 * n_channels if differences else n_channels  # values, then their differences
    if n_inputs != cfg["in_channels"]:
        raise ValueError(
            f"{bad}: meta 'n_channels' is {n_channels}"
            + (" with differences" if differences else "")
            + f", so {n_inputs} input channels, but the encoder takes {cfg['in_channels']}"
        )
    same = {  # every architecture parameter, as the encoder's config names it
        name: NN_NAMES.get(name, name)
        for name, p in ENCODER_PARAMS.items() if p.group == "architecture"
    }
    if params.get("n_encoders", 1) != cfg.get("n_encoders", 1):
        raise ValueError(
            f"{bad}: params['n_encoders'] = {params.get('n_encoders', 1)!r} but the encoder has "
            f"n_encoders = {cfg.get('n_encoders', 1)!r}"
        )
    for param, arch in same.items():
        if params.get(param) in ("auto", None) and param in ("depth", "reuse_heads"):
            continue  # resolved when the model was fitted
        if param in params and arch in cfg and params[param] != cfg[arch]:
            raise ValueError(
                f"{bad}: params[{param!r}] = {params[param]!r} but the encoder has {arch} = "
                f"{cfg[arch]!r}"
            )
    try:
        with torch.device("meta"):  # shapes only: nothing is allocated
            shapes = {k: tuple(v.shape) for k, v in encoder_from_config(cfg).state_dict().items()}
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{bad}: encoder_config is not a valid architecture ({exc})") from None
    n_weights = sum(math.prod(s) for s in shapes.values())
    if 4 * n_weights > modelfile.MAX_ARRAY_BYTES:
        raise ValueError(
            f"{bad}: the architecture has {n_weights} weights, more than the limit of "
            f"{modelfile.MAX_ARRAY_BYTES // 4}"
        )
    stored = {k[len(weights_prefix):]: v for k, v in arrays.items() if k.startswith(weights_prefix)}
    missing = sorted(set(shapes) - set(stored))
    extra = sorted(set(stored) - set(shapes))
    if missing or extra:
        raise ValueError(f"{bad}: weights missing {missing[:3]}, unexpected {extra[:3]}")
    for name, shape in shapes.items():
        if tuple(stored[name].shape) != shape:
            raise ValueError(
                f"{bad}: weight {name!r} has shape {tuple(stored[name].shape)}, the architecture "
                f"needs {shape}"
            )
    normalize = params.get("normalize")
    n_jobs = params.get("n_jobs")
    if n_jobs is not None and (not _is_int(n_jobs) or not 0 < abs(n_jobs) <= 4096):
        raise ValueError(f"{bad}: params['n_jobs'] is {n_jobs!r}; expected None or an integer")
    stats = [k for k in ("channel_mean", "channel_std") if k in arrays]
    if normalize == "channel":
        if len(stats) != 2:
            raise ValueError(f"{bad}: normalize is 'channel' but channel_mean/channel_std are missing")
        mean, std = arrays["channel_mean"], arrays["channel_std"]
        for name, a in (("channel_mean", mean), ("channel_std", std)):
            if a.shape != (n_inputs,) or a.dtype.kind != "f":
                raise ValueError(
                    f"{bad}: {name} has shape {a.shape} and dtype {a.dtype}; expected "
                    f"({n_inputs},) floats"
                )
        with np.errstate(over="ignore"):
            mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
        if not np.isfinite(mean32).all():
            raise ValueError(f"{bad}: channel_mean is not finite in float32")
        if not (np.isfinite(std32).all() and (std32 > 0).all()):
            c = int(np.argmax(~(np.isfinite(std32) & (std32 > 0))))
            raise ValueError(f"{bad}: channel_std of channel {c} is {float(std[c])!r}; it must be > 0")
    elif stats:
        raise ValueError(
            f"{bad}: normalize is {normalize!r} but the file holds {' and '.join(stats)} "
            "(which only normalize='channel' uses)"
        )
    return cfg


def check_head_model(path, params: dict, meta: dict, arrays: dict, *, kind: str, task: str,
                     width: int) -> None:
    """Validate the head of a classifier's or regressor's model file (``task``), whose
    embeddings are ``width`` wide, before it is rebuilt: ValueError naming the problem.

    The head is either a linear layer (``head/weight`` (n_out, width) and ``head/bias``) or
    the training embeddings it is refitted on (``head_train/Z`` (n, width), finite, and
    ``head_train/y`` (n,)). A classifier's ``classes`` are distinct scalars that its
    ``classes_dtype``, a plain numpy dtype, holds unchanged; a fine-tuned regressor's
    ``y_mean`` and ``y_scale`` are finite, ``y_scale > 0``.
    """
    bad = f"{str(path)!r} is not a valid {kind} model file"
    n_out = 1
    if task == "classification":
        classes = meta.get("classes")
        if not isinstance(classes, list) or len(classes) < 2 or len(classes) > 1_000_000:
            raise ValueError(f"{bad}: meta 'classes' is not a list of 2 or more labels")
        if not all(isinstance(c, str | bool | numbers.Real) for c in classes):
            raise ValueError(f"{bad}: meta 'classes' holds a value that is not a label (a text, "
                             "number or bool)")
        try:
            dtype = np.dtype(meta.get("classes_dtype"))
        except (TypeError, ValueError, SyntaxError) as exc:
            raise ValueError(f"{bad}: meta 'classes_dtype' is not a numpy dtype ({exc})") from None
        if dtype.shape != () or dtype.kind not in "biufUO":
            raise ValueError(f"{bad}: meta 'classes_dtype' {dtype.str!r} is not the dtype of "
                             "plain labels")
        if dtype.itemsize * len(classes) > modelfile.MAX_ARRAY_BYTES:
            raise ValueError(f"{bad}: meta 'classes_dtype' {dtype.str!r} for {len(classes)} "
                             "labels is larger than a model file's arrays may be")
        if dtype.kind != "O":
            with np.errstate(all="ignore"):
                kept = np.asarray(classes, dtype=dtype).tolist() if _castable(classes, dtype) else None
            if kept != classes:
                raise ValueError(f"{bad}: meta 'classes' do not hold as {dtype.str!r} (the dtype "
                                 "the file names for them)")
        if len({(type(c).__name__ if isinstance(c, bool | str) else "", c) for c in classes}) < len(
                classes):
            raise ValueError(f"{bad}: meta 'classes' names a label twice")
        n_out = len(classes)
    elif params.get("head") == "finetune":
        for name in ("y_mean", "y_scale"):
            v = meta.get(name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{bad}: meta {name!r} is {v!r}; expected a finite number")
        if not meta["y_scale"] > 0:
            raise ValueError(f"{bad}: meta 'y_scale' is {meta['y_scale']!r}; it must be > 0")
    if "head/weight" in arrays:
        weight, bias = arrays["head/weight"], arrays.get("head/bias")
        rows = n_out if task == "classification" else 1
        if weight.shape != (rows, width) or bias is None or bias.shape != (rows,):
            raise ValueError(f"{bad}: the linear head has weight {weight.shape} and bias "
                             f"{None if bias is None else bias.shape}; expected ({rows}, {width}) "
                             f"and ({rows},)")
        return
    Z, y = arrays.get("head_train/Z"), arrays.get("head_train/y")
    if Z is None or y is None:
        raise ValueError(f"{bad}: it holds no head (head_train/Z and head_train/y, or head/weight)")
    if Z.ndim != 2 or Z.shape[1] != width or Z.dtype.kind != "f" or Z.shape[0] < 1:
        raise ValueError(f"{bad}: head_train/Z has shape {Z.shape} and dtype {Z.dtype}; expected "
                         f"(n, {width}) floats, the width of this model's embeddings")
    if y.shape != (Z.shape[0],) or y.dtype.kind not in "iuf":
        raise ValueError(f"{bad}: head_train/y has shape {y.shape} and dtype {y.dtype}; expected "
                         f"({Z.shape[0]},) numbers, one per row of head_train/Z")
    if not (np.isfinite(Z).all() and np.isfinite(y).all()):
        raise ValueError(f"{bad}: head_train/Z or head_train/y holds NaN or infinite values")


def _castable(values: list, dtype: np.dtype) -> bool:
    try:
        np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return False
    return True
