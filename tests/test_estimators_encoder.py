"""EAEncoder: fit/transform shapes, pooling, batching invariants, normalisation, errors."""

import copy

import numpy as np
import pytest
import torch
from conftest import TINY
from sklearn.exceptions import NotFittedError

from tsea.estimators import EAEncoder

# n_jobs=1: on a loaded 2-core machine two torch threads are up to 50x slower than one


def _series(n=10, channels=2, lo=5, hi=60, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(channels, int(L))).astype(np.float32) for L in rng.integers(lo, hi, n)]


@pytest.fixture(scope="module")
def fitted():
    X = _series()
    return EAEncoder(random_state=0, **TINY).fit(X), X


def test_transform_shapes_and_pooling(fitted):
    enc, X = fitted
    for pooling in ("max", "mean", "last"):
        Z = enc.transform(X, pooling=pooling)
        assert Z.shape == (len(X), 8) and Z.dtype == np.float32 and np.isfinite(Z).all()
    H = enc.transform(X, pooling=None)
    L_max = max(x.shape[1] for x in X)
    assert H.shape == (len(X), L_max, 8) and H.dtype == np.float32
    for i, x in enumerate(X):
        assert np.isfinite(H[i, : x.shape[1]]).all()
        assert np.isnan(H[i, x.shape[1] :]).all()
    # pooled embeddings are the pooled per-step representations
    assert np.allclose(enc.transform(X, pooling="max"), np.stack(
        [H[i, : x.shape[1]].max(axis=0) for i, x in enumerate(X)]), atol=1e-6)
    assert np.allclose(enc.transform(X, pooling="last"), np.stack(
        [H[i, x.shape[1] - 1] for i, x in enumerate(X)]), atol=1e-6)
    both = enc.transform(X, pooling="max+mean")
    assert both.shape == (len(X), 16) and both.dtype == np.float32
    assert np.array_equal(both[:, :8], enc.transform(X, pooling="max"))
    assert np.allclose(both[:, 8:], np.stack(
        [H[i, : x.shape[1]].mean(axis=0) for i, x in enumerate(X)]), atol=1e-6)
    with pytest.raises(ValueError, match="pooling"):
        enc.transform(X, pooling="median")


def test_embedding_independent_of_batch_and_order(fitted):
    enc, X = fitted
    Z = enc.transform(X)
    alone = np.stack([enc.transform([x])[0] for x in X])
    assert np.allclose(Z, alone, atol=1e-5)
    perm = np.random.default_rng(1).permutation(len(X))
    Zp = enc.transform([X[i] for i in perm])
    assert np.allclose(Zp, Z[perm], atol=1e-5)  # original order restored


def test_long_series_and_equal_length_array(fitted):
    enc, _ = fitted
    rng = np.random.default_rng(2)
    long = rng.normal(size=(2, 2, 3000))
    Z = enc.transform(long)
    assert Z.shape == (2, 8) and np.isfinite(Z).all()


def test_nan_inside_series_is_accepted(fitted):
    enc, X = fitted
    x = X[0].copy()
    x[0, 2] = np.nan
    x[:, 3] = np.nan
    assert np.isfinite(enc.transform([x])).all()


def test_reproducible_with_random_state():
    X = _series(6)
    a = EAEncoder(random_state=3, **TINY).fit_transform(X)
    b = EAEncoder(random_state=3, **TINY).fit_transform(X)
    c = EAEncoder(random_state=4, **TINY).fit_transform(X)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("normalize", ["channel", "series", None])
def test_normalize_modes(normalize):
    X = np.random.default_rng(0).normal(size=(6, 2, 20))
    X[:, 1] = X[:, 1] * 100 + 500
    enc = EAEncoder(normalize=normalize, random_state=0, **TINY).fit(X)
    Z = enc.transform(X)
    assert np.isfinite(Z).all()
    if normalize == "channel":
        # the values' channels, then their first differences' (the default differences=True)
        F = np.concatenate([X, np.diff(X, axis=2, prepend=X[:, :, :1])], axis=1)
        assert np.allclose(enc.channel_mean_, np.nanmean(F, axis=(0, 2)), rtol=1e-4, atol=1e-6)
        assert np.allclose(enc.channel_std_, np.nanstd(F, axis=(0, 2)), rtol=1e-4)
        # shift/scale of a channel in the same units as fit is undone by the statistics
    if normalize == "series":
        # per-series z-normalisation: invariant to a per-series affine change of a channel
        X2 = X.copy()
        X2[0, 0] = X2[0, 0] * 7 + 3
        assert np.allclose(enc.transform(X2)[0], Z[0], atol=1e-5)


def test_invalid_parameters_are_reported():
    X = _series(4)
    with pytest.raises(ValueError, match="EAEncoder: attention must be a str among"):
        EAEncoder(attention="sparse", **{k: v for k, v in TINY.items()}).fit(X)
    with pytest.raises(ValueError, match="normalize must be a str among"):
        EAEncoder(normalize="minmax", **TINY).fit(X)
    for flag in ("false", 0, None):  # a string "false" must not silently turn averaging on
        with pytest.raises(ValueError, match="weight_averaging must be an instance of .bool."):
            EAEncoder(weight_averaging=flag, **TINY).fit(X)


def test_errors(fitted):
    enc, X = fitted
    with pytest.raises(NotFittedError):
        EAEncoder().transform(X)
    with pytest.raises(ValueError, match="channels"):
        enc.transform(np.zeros((3, 5, 20)))
    bad_inputs = {
        "empty": np.zeros((0, 2, 10)),
        "all-NaN": np.full((2, 2, 10), np.nan),
        "infinite": np.where(np.eye(10)[None, :2] > 0, np.inf, 1.0),
        "4-D": np.zeros((2, 2, 2, 10)),
        "non-numeric": np.array([["a", "b"], ["c", "d"]]),
        "zero length": [np.zeros((2, 0))],
    }
    for problem, bad in bad_inputs.items():
        with pytest.raises(ValueError, match=problem):
            enc.transform(bad)
        with pytest.raises(ValueError, match=problem):
            EAEncoder(**TINY).fit(bad)
    with pytest.raises(ValueError, match="y has 3 entries"):
        EAEncoder(**TINY).fit(X, y=np.zeros(3))


def test_attention_maps(fitted):
    enc, X = fitted
    maps = enc.attention_maps(X[:3])
    assert len(maps) == 3
    for m, x in zip(maps, X[:3]):
        tokens = int(np.ceil(x.shape[1] / np.ceil(x.shape[1] / 16)))
        assert m.dtype == np.float32 and m.shape == (2, 2, tokens, tokens)  # 2 sub-layers, 2 heads
        assert np.allclose(m.sum(axis=-1), 1.0, atol=1e-4)  # probabilities over keys
    plain = EAEncoder(attention="none", random_state=0, **TINY).fit(X)
    with pytest.raises(ValueError, match="attention='none'"):
        plain.attention_maps(X[:1])


def test_n_jobs_sets_and_restores_torch_threads():
    X = _series(4)
    before = torch.get_num_threads()
    enc = EAEncoder(random_state=0, **TINY).fit(X)
    enc.transform(X)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_jobs"):
        EAEncoder(**{**TINY, "n_jobs": 0}).fit(X)


def test_device_validation():
    with pytest.raises(ValueError, match="device"):
        EAEncoder(device="tpu-9000", **TINY).fit(_series(3))


def test_architecture_defaults_mirror_the_encoder():
    import inspect

    from tsea.estimators import EAClassifier, EARegressor
    from tsea.estimators._base import _NN_NAMES
    from tsea.nn import EADCEncoder
    from tsea.params import ENCODER_PARAMS

    nn_defaults = {
        k: p.default for k, p in inspect.signature(EADCEncoder.__init__).parameters.items()
    }
    architecture = [n for n, p in ENCODER_PARAMS.items() if p.group == "architecture"]
    assert len(architecture) == 23
    for cls in (EAEncoder, EAClassifier, EARegressor):
        params = cls().get_params()
        for name in architecture:
            if name == "n_encoders":  # the estimator's: one EADCEncoder is one encoder
                assert name not in nn_defaults and params[name] == 1
            elif name == "reuse_heads":  # None -> n_heads // 2
                assert params[name] is None
                assert params["n_heads"] // 2 == nn_defaults["reuse_heads"]
            else:
                assert params[name] == nn_defaults[_NN_NAMES.get(name, name)], (cls.__name__, name)


def test_signatures_docstrings_and_constraints_come_from_the_table():
    import inspect

    from tsea import params as table
    from tsea.estimators import EAClassifier, EARegressor

    for cls, task in ((EAEncoder, None), (EAClassifier, "classification"),
                      (EARegressor, "regression")):
        expected = table.estimator_params(task)
        signature = inspect.signature(cls)
        assert list(signature.parameters) == list(expected)
        assert {n: p.default for n, p in signature.parameters.items()} == table.defaults(task)
        assert set(cls._parameter_constraints) == set(expected)
        for name in expected:
            assert f"\n    {name} : default=" in cls.__doc__, (cls.__name__, name)
        for section in ("Attributes", "Examples"):
            assert f"    {section}\n    ----" in cls.__doc__
    assert EAClassifier("ridge").head == "ridge"  # the head may be given by position
    with pytest.raises(TypeError, match=r"^EAEncoder.__init__\(\) got an unexpected keyword "
                                        r"argument 'lrr'$"):
        EAEncoder(lrr=0.1)


def test_every_estimator_exposes_lr_attention_and_pooling_to_grid_search():
    from sklearn.base import clone

    from tsea.estimators import EAClassifier, EARegressor

    for cls in (EAEncoder, EAClassifier, EARegressor):
        est = clone(cls().set_params(lr=0.01, attention="none", pooling="mean"))
        assert (est.lr, est.attention, est.pooling) == (0.01, "none", "mean")


def test_trainer_kwargs_reach_lightning():
    from lightning.pytorch.callbacks import Callback

    class CountSteps(Callback):
        def __init__(self):
            self.steps = 0

        def on_train_batch_end(self, *args, **kwargs):
            self.steps += 1

    counter = CountSteps()
    params = {**TINY, "n_iters": 3, "device": "cpu"}
    enc = EAEncoder(trainer_kwargs={"callbacks": [counter]}, random_state=0, **params)
    enc.fit(_series(6))
    assert counter.steps == 3
    assert enc.trainer_kwargs["callbacks"][0] is counter  # stored verbatim
    with pytest.raises(ValueError, match="trainer_kwargs must be an instance of .dict."):
        EAEncoder(trainer_kwargs=[("max_steps", 1)], **TINY).fit(_series(3))


def test_depth_auto_covers_the_longest_training_series(tmp_path):
    from tsea.nn import covering_depth, receptive_field

    kw = {**TINY, "depth": "auto"}
    X = _series(6, lo=20, hi=25)  # longest 24 steps -> depth 3 (29 steps), not 2 (13)
    enc = EAEncoder(random_state=0, **kw).fit(X)
    longest = max(x.shape[1] for x in X)
    assert enc.depth_ == covering_depth(longest) == 3 and len(enc.encoder_.blocks) == 3
    assert receptive_field(enc.depth_ - 1) < longest <= receptive_field(enc.depth_)
    assert enc.get_params()["depth"] == "auto"  # the parameter itself is left as given
    # a fixed depth gives the same network when it equals the resolved one
    fixed = EAEncoder(random_state=0, **{**TINY, "depth": 3}).fit(X)
    assert np.array_equal(fixed.transform(X), enc.transform(X))
    long = _series(3, lo=600, hi=601)  # beyond 509 steps: capped at 7
    assert EAEncoder(random_state=0, **{**kw, "n_iters": 1}).fit(long).depth_ == 7
    enc.save(tmp_path / "m.tsea")
    loaded = EAEncoder.load(tmp_path / "m.tsea")
    assert loaded.depth_ == 3 and loaded.depth == "auto"
    assert np.array_equal(loaded.transform(X), enc.transform(X))


@pytest.mark.parametrize("depth", [0, -1, 2.0, "deep", True, None])
def test_bad_depth_is_reported(depth):
    with pytest.raises(ValueError, match="EAEncoder: depth must (be an int in the range|not be a bool)"):
        EAEncoder(**{**TINY, "depth": depth}).fit(_series(4))


def test_feature_names_and_pandas_output_in_a_pipeline(fitted):
    import pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    enc, X = fitted
    names = enc.get_feature_names_out()
    assert list(names) == [f"eaencoder{i}" for i in range(TINY["repr_dim"])]
    with pytest.raises(NotFittedError):
        EAEncoder(**TINY).get_feature_names_out()
    Z = enc.transform(X)

    out = copy.deepcopy(enc).set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(names)
    assert list(out.index) == list(range(len(X)))
    np.testing.assert_array_equal(out.to_numpy(), Z)

    pipe = make_pipeline(EAEncoder(random_state=0, **TINY), StandardScaler())
    table = pipe.set_output(transform="pandas").fit_transform(X)
    assert isinstance(table, pd.DataFrame) and list(table.columns) == list(names)


def test_pandas_output_rows_are_named_by_the_series_ids(fitted):
    import pandas as pd

    enc, X = fitted
    enc = copy.deepcopy(enc).set_output(transform="pandas")
    three = X[:3]
    # long table: one row per step; the output has one row per series, named by its id, in
    # order of first appearance
    ids = ["c", "a", "b"]
    long = pd.concat([
        pd.DataFrame({"id": i, "time": np.arange(x.shape[1]), "ch0": x[0], "ch1": x[1]})
        for i, x in zip(ids, three)
    ], ignore_index=True)
    out = enc.transform(long)
    assert list(out.index) == ids and out.index.name == "id"
    np.testing.assert_allclose(out.to_numpy(), enc.set_output(transform="default").transform(three),
                               atol=1e-5)
    enc.set_output(transform="pandas")
    multi = long.rename(columns={"id": "patient"}).set_index(["patient", "time"])
    out = enc.transform(multi)
    assert list(out.index) == ids and out.index.name == "patient"
    nested = pd.DataFrame(
        {f"ch{c}": [pd.Series(x[c]) for x in three] for c in range(2)},
        index=pd.Index([10, 20, 30], name="case"),
    )
    out = enc.transform(nested)
    assert list(out.index) == [10, 20, 30] and out.index.name == "case"


def test_pandas_output_refuses_what_is_not_a_table_of_its_columns(fitted):
    enc, X = fitted
    enc = copy.deepcopy(enc).set_output(transform="pandas")
    with pytest.raises(ValueError, match=r"transform\(pooling=None\) gives an array of shape .*"
                       r"set_output\(transform='default'\)"):
        enc.transform(X, pooling=None)
    with pytest.raises(ValueError, match=r"pooling='max\+mean'.* 8 columns"):
        enc.transform(X, pooling="max+mean")
    assert enc.set_output(transform="default").transform(X, pooling=None).ndim == 3
    wide = EAEncoder(random_state=0, pooling="max+mean", **TINY).fit(X).set_output(transform="pandas")
    assert wide.transform(X).shape == (len(X), 2 * TINY["repr_dim"])


def test_scikit_learn_set_output_check():
    from sklearn.utils.estimator_checks import check_set_output_transform

    check_set_output_transform("EAEncoder", EAEncoder(random_state=0, **TINY))


def test_paired_init_makes_an_idle_map_convolution_train_as_vanilla():
    # evolving with alpha = beta = 0 computes what vanilla computes (its map convolution is
    # weighted 0): paired, it starts, sees the same batches and dropout and trains to the same
    # encoder; unpaired, its map convolutions shift every later weight's start
    X = _series(lo=20)
    kw = {**TINY, "depth": 2, "attention_blocks": 1, "n_iters": 3, "random_state": 0}
    for paired, same in ((True, True), (False, False)):
        vanilla = EAEncoder(attention="vanilla", paired_init=paired, **kw).fit(X).transform(X)
        idle = EAEncoder(attention="evolving", alpha=0.0, beta=0.0, paired_init=paired,
                         **kw).fit(X).transform(X)
        assert np.array_equal(vanilla, idle) is same
