"""Methods of the archive benchmark: ``ea-dc``, a config file, ``minirocket``, ``ts2vec``.

A method is named on the command line by a keyword, by a preset name (``configs/``, as for
``--config``), or by the path of a YAML config file (its keys are encoder parameters,
``pooling`` included, plus optionally ``head``: one head name, or a mapping
``{classification: ..., regression: ...}``; the method is then named after the file stem, e.g.
``configs/ablation-none.yaml`` and the preset ``ablation-none`` -> ``ablation-none``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from tsea.config import ConfigError, list_presets, load_config, resolve_config_path
from tsea.params import CLASSIFICATION_HEADS, ENCODER_PARAMS, REGRESSION_HEADS
from tsea.utils import did_you_mean

_HEADS = {"classification": CLASSIFICATION_HEADS, "regression": REGRESSION_HEADS}

BUILTIN = ("ea-dc", "minirocket", "ts2vec")
DEFAULT_METHODS = ("ea-dc", "minirocket", "ts2vec")


@dataclass(frozen=True)
class MethodSpec:
    """A benchmark method: ``name`` (the results column), ``kind`` (``ea-dc``,
    ``minirocket`` or ``ts2vec``) and keyword ``params`` (estimator parameters for
    ``ea-dc``; ``n_kernels`` for ``minirocket``; ``n_iters`` for ``ts2vec``)."""

    name: str
    kind: str
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in BUILTIN:
            raise ValueError(f"unknown method kind {self.kind!r}; expected one of {BUILTIN}")
        if not self.name or "," in self.name:
            raise ValueError(f"method name {self.name!r} must be non-empty and contain no comma")

    def __hash__(self):
        return hash((self.name, self.kind, tuple(sorted(map(str, self.params.items())))))


def parse_method(text: str) -> MethodSpec:
    """A method keyword or config path -> :class:`MethodSpec`."""
    text = text.strip()
    if text in BUILTIN:
        return MethodSpec(text, text)
    presets = list_presets()
    if text in presets:
        text = str(resolve_config_path(text))
    if text.endswith((".yaml", ".yml")) or os.sep in text:
        if not os.path.isfile(text):
            raise ValueError(f"method config file {text!r} does not exist")
        name = os.path.splitext(os.path.basename(text))[0]
        if name in BUILTIN:
            raise ValueError(f"config file {text!r} would shadow the built-in method {name!r}")
        params = dict(load_config(text, valid_keys=[*ENCODER_PARAMS, "head"]))
        if "head" in params:
            _check_head(text, params["head"])
        return MethodSpec(name, "ea-dc", params)
    raise ValueError(
        f"unknown method {text!r}{did_you_mean(text, [*BUILTIN, *presets])}: use one of {', '.join(BUILTIN)}, a preset "
        f"({', '.join(presets)}) or the path of a YAML config"
    )


def parse_methods(items) -> list[MethodSpec]:
    """Strings (comma lists allowed) or MethodSpecs -> unique MethodSpecs, order kept."""
    specs: list[MethodSpec] = []
    for item in items:
        if isinstance(item, MethodSpec):
            specs.append(item)
            continue
        parts = [p.strip() for p in str(item).split(",")]
        if any(not p for p in parts):
            raise ValueError(f"method list {item!r} has an empty item")
        specs.extend(parse_method(p) for p in parts)
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"method name(s) {dupes} given more than once")
    if not specs:
        raise ValueError("no methods given")
    return specs


def _check_head(path: str, head) -> None:
    """A config's ``head``: a name valid for some task, or a mapping task -> name."""
    if isinstance(head, str):
        if not any(head in names for names in _HEADS.values()):
            raise ConfigError(f"config file {path}: unknown head {head!r}")
        return
    if not isinstance(head, dict) or not set(head) <= set(_HEADS):
        raise ConfigError(f"config file {path}: head must be a name or a mapping with keys "
                          f"{sorted(_HEADS)}, got {head!r}")
    for task, name in head.items():
        if name not in _HEADS[task]:
            raise ConfigError(f"config file {path}: {name!r} is not a {task} head; "
                              f"choose from {list(_HEADS[task])}")


def fit_predict_ea(X_train, y_train, X_test, task, seed, threads=None, **params):
    """EAClassifier / EARegressor (default heads logistic / ridge) with ``params`` on top of the
    defaults; ``random_state`` is the seed and ``n_jobs`` is ``threads`` (when given), whatever
    ``params`` say. ``head`` may map tasks to heads; a task it does not
    name keeps its default head."""
    from tsea.estimators import EAClassifier, EARegressor

    cls = EAClassifier if task == "classification" else EARegressor
    valid = cls().get_params()
    kwargs = dict(params)
    if isinstance(kwargs.get("head"), dict):
        head = kwargs.pop("head")
        if task in head:
            kwargs["head"] = head[task]
    kwargs["random_state"] = seed
    if "verbose" in valid:
        kwargs["verbose"] = False
    # the runner owns each job's threads, as it owns the seed: a config's n_jobs (null in
    # configs/default.yaml: every core) would let jobs fight over the cores and make fit times
    # incomparable between methods
    if threads is not None and "n_jobs" in valid:
        kwargs["n_jobs"] = threads
    model = cls(**kwargs)
    t0 = time.perf_counter()
    model.fit(X_train, y_train)
    t1 = time.perf_counter()
    y_pred = model.predict(X_test)
    return y_pred, t1 - t0, time.perf_counter() - t1


def fit_predict(spec: MethodSpec, X_train, y_train, X_test, task: str, seed: int, threads=None):
    """Run one method: ``(y_pred, fit_seconds, transform_seconds)``."""
    from tsea.benchmark import baselines

    if spec.kind == "ea-dc":
        return fit_predict_ea(X_train, y_train, X_test, task, seed, threads=threads, **spec.params)
    if spec.kind == "minirocket":
        return baselines.fit_predict_minirocket(X_train, y_train, X_test, task, seed, **spec.params)
    return baselines.fit_predict_ts2vec(X_train, y_train, X_test, task, seed, **spec.params)


def unavailable_reason(spec: MethodSpec) -> str | None:
    """Why ``spec`` cannot run here (a missing optional package), or None."""
    if spec.kind == "ts2vec":
        from tsea.benchmark.baselines import TS2VEC_INSTALL_HINT, ts2vec_available

        if not ts2vec_available():
            return f"ts2vec not installed: {TS2VEC_INSTALL_HINT}"
    return None
