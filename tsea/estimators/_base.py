"""Shared machinery of the tsea estimators: parameters, normalisation, pre-training, embedding.

``_EABase`` holds no public API of its own; :class:`~tsea.estimators.EAEncoder`,
:class:`~tsea.estimators.EAClassifier` and :class:`~tsea.estimators.EARegressor` build on it.
The layers below are reached through their modules (``_data.to_collection``, ``_nn.EADCEncoder``,
``_training.pretrain``) so that the internal interfaces of docs/INTERNALS.md are the only contract.
"""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

import tsea
from tsea import data as _data
from tsea import modelfile
from tsea import nn as _nn
from tsea import params as _params
from tsea import training as _training
from tsea.data import scale as _scale
from tsea.estimators._modelcheck import check_encoder_model, check_head_model
from tsea.utils import (
    member_seeds,
    resolve_device,
    resolve_seed,
    resolve_threads,
    seeded,
    thread_limit,
)

_NN_NAMES = _params.NN_NAMES

# scikit-learn's estimator checks that tsea fails by design (sklearn >= 1.6 passes these to
# parametrize_with_checks / check_estimator as ``expected_failed_checks``).
_FEATURES = "2-D X is (n, n_steps); other lengths are valid by design"
SKLEARN_EXPECTED_FAILURES = {
    "check_n_features_in": "no n_features_in_: " + _FEATURES + " (n_channels_ is stored)",
    "check_n_features_in_after_fitting": "no n_features_in_: " + _FEATURES,
    "check_transformer_general": "expects an error for another n_features: " + _FEATURES,
    "check_classifiers_train": "expects an error for another n_features: " + _FEATURES,
    "check_methods_subset_invariance": (
        "float32 batched kernels differ by ~1e-6 with batch composition (tested to 1e-5)"
    ),
    "check_fit2d_predict1d": "tsea.data's 1-D message says 'use X[None, :]', not 'Reshape'",
    "check_complex_data": "tsea.data's message says 'complex values ... not supported'",
    "check_estimators_empty_data_messages": "an (n, 0) array is reported as zero-length series",
    "check_dtype_object": "non-numeric objects give tsea.data's ValueError, not a TypeError",
    "check_transformer_data_not_an_array": "array-likes other than DESIGN.md's forms are refused",
    "check_classifier_data_not_an_array": "a 2-D DataFrame is read as a long-format table",
    "check_regressor_data_not_an_array": "a 2-D DataFrame is read as a long-format table",
    "check_regressors_train": "the tiny check configuration scores R^2 < 0.5 on tabular toy data",
}


def sklearn_expected_failures(estimator) -> dict:
    """``expected_failed_checks`` for scikit-learn's estimator checks (name -> reason)."""
    return dict(SKLEARN_EXPECTED_FAILURES)




@contextmanager
def torch_threads(n_jobs):
    """The estimators' ``n_jobs`` as torch CPU threads inside the block."""
    with thread_limit(resolve_threads(n_jobs)):
        yield


def table_parameters(task: str | None):
    """Class decorator: the estimator's ``__init__``, signature, ``_parameter_constraints`` and
    the Parameters section of its docstring, all from :mod:`tsea.params`.

    ``__init__`` stores every argument verbatim under its own name (scikit-learn's rule: no
    validation there); ``fit`` validates them once (:meth:`_EABase._check_params`).
    """
    table = _params.estimator_params(task)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature([self_param] + [
        inspect.Parameter(
            name,
            # the head may be passed by position, as in EAClassifier("ridge")
            inspect.Parameter.POSITIONAL_OR_KEYWORD if name == "head"
            else inspect.Parameter.KEYWORD_ONLY,
            default=p.default,
        )
        for name, p in table.items()
    ])

    def decorate(cls):
        def __init__(self, *args, **kwargs):
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError as exc:  # name the class, as Python does for a written __init__
                raise TypeError(f"{cls.__name__}.__init__() {exc}") from None
            bound.apply_defaults()
            for name, value in list(bound.arguments.items())[1:]:
                setattr(self, name, value)

        __init__.__signature__ = signature
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        __init__.__doc__ = f"Store the parameters of :class:`{cls.__name__}` (see its docstring)."
        cls.__init__ = __init__
        cls._task = task
        cls._parameter_constraints = {name: p.constraints for name, p in table.items()}
        section = _params.docstring_section(task).replace("\n", "\n    ")
        cls.__doc__ = (cls.__doc__ or "").replace("{parameters}", section)
        return cls

    return decorate


def _channels(n: int) -> str:
    return f"{n} channel" + ("" if n == 1 else "s")


class _EABase(BaseEstimator):
    """Encoder parameters and the fit/embed machinery shared by all tsea estimators."""

    _task: str | None = None

    # -- parameters ---------------------------------------------------------------------------
    def __setstate__(self, state):
        # pickles from before a parameter existed get the value they behaved as
        super().__setstate__({**_params.legacy_values(self._task), **state})

    @contextmanager
    def _fitting(self):
        """The body of ``fit``: when it raises (bad input, a refused parameter, Ctrl-C), the
        estimator is left as it was. A fit sets its attributes one by one (``classes_`` and
        the normalisation before the pre-training, the head after it), so a failure half-way
        would pair new ones with the old model: predictions under the wrong class names, a
        file that does not load, a parameter change that no longer counts as one."""
        before = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _check_params(self) -> None:
        """Validate every parameter against the table, once, when ``fit`` starts, and keep
        them: the fitted model is what they describe (:meth:`_check_unchanged_since_fit`)."""
        _params.validate(self.get_params(deep=False), task=self._task, caller=type(self).__name__)
        self._params_at_fit = self.get_params(deep=False)
        if self.repr_dim % self.n_encoders:
            raise ValueError(
                f"{type(self).__name__}: repr_dim = {self.repr_dim} must be a multiple of "
                f"n_encoders = {self.n_encoders} (each encoder gives repr_dim / n_encoders features)"
            )
        if self.run_dir is not None and not self.run_dir.strip():
            # "" would put the checkpoints in /checkpoints and the logs in the working folder
            raise ValueError(f"{type(self).__name__}: run_dir must name a folder, or be None "
                             f"to write nothing; got {self.run_dir!r}")
        resolve_threads(self.n_jobs)
        resolve_device(self.device)

    def _group(self, group: str) -> dict:
        """This estimator's values of the table's parameters of one group, numpy scalars (a
        grid over ``np.arange``) as the Python numbers the network and training expect."""
        return {
            _NN_NAMES.get(name, name): _params.plain_value(getattr(self, name))
            for name, p in _params.ENCODER_PARAMS.items()
            if p.group == group
        }

    def _arch_kwargs(self, max_length: int) -> dict:
        """Arguments of one encoder (of ``n_encoders``: ``repr_dim`` is its share);
        ``depth="auto"`` is resolved for series of ``max_length`` steps."""
        kwargs = self._group("architecture")
        n_encoders = int(kwargs.pop("n_encoders"))
        kwargs["repr_dim"] = int(kwargs["repr_dim"]) // n_encoders
        if kwargs["reuse_heads"] is None:  # default: half of the heads reuse (nn's 4 of 8)
            kwargs["reuse_heads"] = int(self.n_heads) // 2
        if kwargs["depth"] == "auto":
            kwargs["depth"] = _nn.covering_depth(
                int(max_length), kernel_size=self.kernel_size, max_depth=_params.AUTO_MAX_DEPTH
            )
        kwargs["depth"] = int(kwargs["depth"])  # a numpy integer is fine here
        if kwargs["attention_blocks"] is not None:
            kwargs["attention_blocks"] = int(kwargs["attention_blocks"])
        return kwargs

    # -- input --------------------------------------------------------------------------------
    @staticmethod
    def _collection(X, what: str = "X"):
        if scipy.sparse.issparse(X):
            raise ValueError(f"{what}: sparse input is not supported; pass a dense array")
        return _data.to_collection(X, what=what)

    def _check_channels(self, coll) -> None:
        if coll.n_channels != self.n_channels_:
            raise ValueError(
                f"X has {_channels(coll.n_channels)}, but this {type(self).__name__} was fitted "
                f"on {_channels(self.n_channels_)}"
            )

    # -- normalisation ------------------------------------------------------------------------
    def _features(self, X: np.ndarray) -> np.ndarray:
        """The network's input channels before normalisation: ``X``, and with
        ``differences=True`` each channel's first differences after them."""
        return _scale.append_differences(X) if self.differences else X

    def _fit_normalizer(self, F: np.ndarray) -> None:
        """Learn the normalisation of the features ``F`` (``_features`` of the training set)."""
        if self.normalize == "channel":
            self.channel_mean_, self.channel_std_ = _scale.channel_stats(F)  # float64 inside
        else:
            self.channel_mean_ = None
            self.channel_std_ = None

    def _apply_normalizer(self, F: np.ndarray) -> np.ndarray:
        """The network input of the features ``F``: normalised."""
        if self.normalize == "channel":
            return (F - self.channel_mean_[None, :, None]) / self.channel_std_[None, :, None]
        if self.normalize == "series":
            return _scale.series_normalize(F)
        return F

    def _normalize(self, X: np.ndarray) -> np.ndarray:
        """The network input of raw (n, C, L) ``X``: its features, normalised."""
        return self._apply_normalizer(self._features(X))

    def _check_unchanged_since_fit(self) -> None:
        """ValueError when ``set_params`` changed, after fit, a parameter that the fitted model
        embodies (``differences``, ``depth``, ``head``, ...): its outputs, and a file saved
        from it, would no longer match the parameters. Models unpickled from before this
        check have no record and pass."""
        at_fit = getattr(self, "_params_at_fit", None)
        if at_fit is None:
            return
        free = (_params.ENCODER_CHANGEABLE_AFTER_FIT if self._task is None
                else _params.CHANGEABLE_AFTER_FIT)
        now = self.get_params(deep=False)
        for name, value in now.items():
            if name in free or name not in at_fit:
                continue
            before = at_fit[name]
            try:  # a numpy scalar is its Python value (set_params(depth=np.int64(2)) after 2),
                # and 0.0 is 0 (grad_clip); True is not 1
                plain, plain_before = _params.plain_value(value), _params.plain_value(before)
                same = bool(plain == plain_before) and (
                    isinstance(plain, bool) == isinstance(plain_before, bool))
                if same and type(plain) is not type(plain_before):
                    # an equal value of another type is the same only where the table allows
                    # it (depth=2.0 is no depth: a file saved with it would not load)
                    _params.validate({name: value}, task=self._task)
            except (TypeError, ValueError):
                same = value is before
            if not same:
                raise ValueError(
                    f"{type(self).__name__}: {name} was {at_fit[name]!r} at fit and is {value!r} "
                    f"now; the fitted model cannot follow it (only {', '.join(free)} may change "
                    f"after fit): refit, or set_params({name}={at_fit[name]!r})"
                )

    # -- pre-training -------------------------------------------------------------------------
    def _fit_encoder(self, coll, resume_from=None) -> None:
        """Normalise, build and pre-train the encoder (each of ``n_encoders``, on its share of
        the step budget); sets ``encoder_`` and friends. ``resume_from``: a checkpoint of
        ``run_dir`` to continue from (one encoder only)."""
        if resume_from is not None and int(self.n_encoders) != 1:
            raise ValueError(f"resume_from: a fit of n_encoders={self.n_encoders} writes one "
                             "checkpoint per encoder and cannot resume from one; refit it")
        seed = None
        if resume_from is not None and self.random_state is None:
            # the interrupted fit drew its seed; the one it recorded goes on with it
            seed = _training.checkpoint_seed(resume_from)
        seed = resolve_seed(self.random_state) if seed is None else seed
        F = self._features(coll.X)  # once: the statistics and the network input share it
        self._fit_normalizer(F)
        X = _scale.check_network_input(self._apply_normalizer(F), coll.X, coll.ids)
        X = np.ascontiguousarray(X, dtype=np.float32)
        arch = self._arch_kwargs(max_length=int(np.max(coll.lengths)))
        n_encoders = int(self.n_encoders)
        # The step budget follows the size of the data (TS2Vec's rule), not of the input the
        # network sees: differences add channels, not data.
        training = {**self._group("pre-training"),
                    **_training.split_budget(self.n_iters, self.max_epochs, coll.X.shape, n_encoders)}
        num_threads = resolve_threads(self.n_jobs)
        members = []
        with torch_threads(self.n_jobs):
            for k, member_seed in enumerate(member_seeds(seed, n_encoders)):
                run_dir = self.run_dir
                if run_dir is not None and n_encoders > 1:
                    run_dir = os.path.join(run_dir, f"member-{k}")
                with seeded(member_seed):
                    encoder = _training.pretrain(
                        _nn.EADCEncoder(X.shape[1], **arch),
                        X,
                        coll.lengths,
                        **training,
                        random_state=member_seed,
                        verbose=self.verbose,
                        trainer_kwargs=self.trainer_kwargs,
                        device=self.device,
                        num_threads=num_threads,
                        run_dir=run_dir,
                        resume_from=resume_from,
                    )
                members.append(encoder.cpu().eval())
        self.encoder_ = members[0] if n_encoders == 1 else _nn.EncoderEnsemble(members).eval()
        self.n_channels_ = coll.n_channels
        self.train_length_ = int(np.max(coll.lengths))
        self.seed_ = seed

    @property
    def depth_(self) -> int:
        """Blocks of the fitted encoder (``depth="auto"`` resolved); read from ``encoder_``."""
        return int(self.encoder_.config["depth"])

    # -- embedding ----------------------------------------------------------------------------
    def _embed(self, coll, pooling="max") -> np.ndarray:
        """Pooled (n, D) or per-step (n, L_max, D) float32 embeddings of a validated collection
        (the loop, its batching and why: ``tsea.nn.inference``). Each batch is normalised and
        range-checked on its own (no normalised copy of the whole input); the embeddings are
        checked to be finite."""
        from tsea.nn.inference import embed_padded

        if pooling is not None and pooling not in _params.POOLINGS:
            raise ValueError(f"pooling must be one of {[*_params.POOLINGS, None]}, got {pooling!r}")
        check_is_fitted(self, "encoder_")
        self._check_unchanged_since_fit()
        self._check_channels(coll)
        cap = max(1, int(self.max_attention_len)) if self.attention != "none" else None
        device = resolve_device(self.device)

        canvas = self._canvas_width()

        def prepare(xb, idx):
            return self._network_input(coll, xb, idx)

        with torch_threads(self.n_jobs), torch.inference_mode():
            encoder = self.encoder_.to(device).eval()
            try:
                out = embed_padded(
                    encoder, coll.X, coll.lengths, pooling=pooling, attention_cap=cap,
                    device=device, prepare=prepare, canvas=canvas,
                )
            finally:
                encoder.cpu()
        return _scale.check_embeddings(out, coll.lengths, coll.ids)

    def _canvas_width(self) -> int | None:
        """The window of ``readout="canvas"`` (``train_length_``), or None for ``"valid"``."""
        if self.readout not in _params.READOUTS:  # set_params after fit is not validated there
            raise ValueError(f"readout must be one of {list(_params.READOUTS)}, got {self.readout!r}")
        if self.readout == "valid":
            return None
        width = getattr(self, "train_length_", None)  # None: a pickle or file from before it
        if width is None:
            raise ValueError(
                f"readout='canvas' needs the longest training length (train_length_), which "
                f"this {type(self).__name__} predates; refit it, or use readout='valid'"
            )
        return width

    def _network_input(self, coll, xb: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The normalised input of the batch ``xb`` (series ``idx`` of ``coll``), checked with
        :func:`tsea.data.scale.check_network_input`. A value out of range raises naming the
        first such series of the whole collection, as one check of the whole normalised array
        would: a second pass over the collection in input order, slice by slice, only then."""
        Z = self._normalize(xb)
        try:
            return _scale.check_network_input(Z, xb, coll.ids, rows=idx)
        except ValueError:
            step = 256
            for start in range(0, coll.n_series, step):
                rows = np.arange(start, min(start + step, coll.n_series))
                part = coll.X[rows]
                _scale.check_network_input(self._normalize(part), part, coll.ids, rows=rows)
            raise

    def _attention_maps(self, coll) -> list[np.ndarray]:
        check_is_fitted(self, "encoder_")
        self._check_unchanged_since_fit()
        if self.attention == "none":
            raise ValueError("attention='none' has no attention maps (a plain dilated CNN)")
        self._check_channels(coll)
        from tsea.nn.inference import canvas_window

        X = _scale.check_network_input(self._normalize(coll.X), coll.X, coll.ids)
        canvas = self._canvas_width()  # the maps transform computes: the same window
        maps_out = []
        with torch_threads(self.n_jobs), torch.inference_mode():
            encoder = self.encoder_.eval()
            for i in range(coll.n_series):
                length = int(coll.lengths[i])
                width = length if canvas is None else max(length, canvas)
                xb = np.ascontiguousarray(X[i : i + 1, :, :length], dtype=np.float32)
                observed = None
                if width > length:
                    xb, observed = canvas_window(xb, [length], [width])
                    observed = torch.from_numpy(observed)
                _, maps = encoder(torch.from_numpy(xb), lengths=torch.tensor([width]),
                                  proj_mask=observed, return_attention=True)
                maps_out.append(np.stack([m[0].float().numpy() for m in maps]).astype(np.float32))
        return maps_out

    # -- model file ---------------------------------------------------------------------------
    def save(self, path) -> None:
        """Write parameters, weights and fitted state to one ``.tsea`` file (atomic).

        Every parameter must be a plain JSON value: ``trainer_kwargs`` holding objects (e.g.
        Lightning callbacks) or a RandomState ``random_state`` give a ValueError; use pickle or
        joblib for such models.
        """
        check_is_fitted(self, "encoder_")
        self._check_unchanged_since_fit()
        params = self.get_params()
        seed = params["random_state"]
        if not (seed is None or isinstance(seed, int | np.integer)):
            raise ValueError(f"cannot save: random_state must be an int or None in a model file, "
                             f"not a {type(seed).__name__}")
        meta = {
            "tsea_version": tsea.__version__,
            "encoder_config": self.encoder_.config,
            "n_channels": int(self.n_channels_),
            "seed": int(self.seed_),
        }
        if getattr(self, "train_length_", None) is not None:  # None: fitted before it existed
            meta["train_length"] = int(self.train_length_)
        arrays = {
            f"weights/{name}": tensor.detach().cpu().numpy()
            for name, tensor in self.encoder_.state_dict().items()
        }
        if self.channel_mean_ is not None:
            arrays["channel_mean"] = self.channel_mean_
            arrays["channel_std"] = self.channel_std_
        head_meta, head_arrays = self._head_state()
        meta.update(head_meta)
        arrays.update(head_arrays)
        modelfile.write_model(path, type(self).__name__, _params.to_file(params), meta, arrays)

    #: Kinds of model file :meth:`load` reads, besides the class's own.
    _also_loads: tuple[str, ...] = ()

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save` (no code is executed while loading)."""
        params, meta, arrays = modelfile.read_model(path, kind=(cls.__name__, *cls._also_loads))
        return cls._from_file(path, params, meta, arrays)

    @classmethod
    def _from_file(cls, path, params: dict, meta: dict, arrays: dict):
        """The estimator of what :func:`tsea.modelfile.read_model` read from ``path``."""
        params = _params.from_file(params)
        if cls._task is None:  # the encoder of a classifier's or regressor's file: not its head
            for name in _params.HEAD_ONLY_NAMES:
                params.pop(name, None)
        params = {**_params.legacy_values(cls._task), **params}
        try:  # a hand-edited value (pooling="median") would fail only at its first use
            _params.validate(params, task=cls._task, caller="params")
        except ValueError as exc:
            raise ValueError(f"{str(path)!r} is not a valid {cls.__name__} model file: "
                             f"{exc}") from None
        check_encoder_model(path, params, meta, arrays, kind=cls.__name__)  # limits
        if cls._task is not None:
            width = int(params["repr_dim"]) * (2 if params.get("pooling") == "max+mean" else 1)
            check_head_model(path, params, meta, arrays, kind=cls.__name__, task=cls._task,
                             width=width)
        try:
            est = cls(**params)
            encoder = _nn.encoder_from_config(meta["encoder_config"])
            state = {
                name[len("weights/") :]: torch.from_numpy(np.array(value))
                for name, value in arrays.items()
                if name.startswith("weights/")
            }
            encoder.load_state_dict(state, strict=True)
            est.encoder_ = encoder.eval()
            est._params_at_fit = est.get_params(deep=False)
            est.n_channels_ = int(meta["n_channels"])
            est.seed_ = int(meta["seed"])
            # files written before readout existed lack it; only readout="canvas" needs it
            est.train_length_ = int(meta["train_length"]) if "train_length" in meta else None
            if params.get("normalize") == "channel":
                est.channel_mean_ = arrays["channel_mean"].astype(np.float32)
                est.channel_std_ = arrays["channel_std"].astype(np.float32)
            else:
                est.channel_mean_ = est.channel_std_ = None
            est._restore_head(meta, arrays)
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(
                f"{str(path)!r} is not a valid {cls.__name__} model file ({exc})"
            ) from None
        return est

    def _head_state(self) -> tuple[dict, dict]:
        """``(meta, arrays)`` of what the model file needs beyond the encoder."""
        return {}, {}

    def _restore_head(self, meta: dict, arrays: dict) -> None:
        """Rebuild the fitted state written by :meth:`_head_state`."""

    # -- sklearn plumbing ---------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = True
        return tags

