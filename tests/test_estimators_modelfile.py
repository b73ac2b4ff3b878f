"""Model file (.tsea) and pickle/joblib round trips of the estimators."""

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from conftest import AUTHORS_LAYOUT, TINY

from tsea.estimators import EAClassifier, EAEncoder, EARegressor
from tsea.modelfile import read_model, write_model


def _series(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(2, int(L))) for L in rng.integers(8, 40, n)]


@pytest.fixture(scope="module")
def fitted():
    X = _series()
    return EAEncoder(random_state=0, **TINY).fit(X), X


@pytest.mark.parametrize("normalize, layout", [
    ("channel", {}), ("series", {"block": "preact", "causal": False}), (None, {"block": "preact", "attention_blocks": 1}),
    ("channel", {"block": "preact", "attention_merge": "gated"}),
    ("channel", {"block": "preact", "causal": False, "attention_norm": True}),
])
def test_save_load_reproduces_transform_exactly(tmp_path, normalize, layout):
    X = _series()
    enc = EAEncoder(normalize=normalize, attention="reuse", random_state=1, **{**TINY, **layout}).fit(X)
    path = tmp_path / "model.tsea"
    enc.save(path)
    loaded = EAEncoder.load(path)
    assert loaded.get_params() == enc.get_params()
    assert np.array_equal(loaded.transform(X), enc.transform(X))
    H, H2 = enc.transform(X, pooling=None), loaded.transform(X, pooling=None)
    assert np.array_equal(H, H2, equal_nan=True)


def test_pickle_and_joblib_round_trips(tmp_path, fitted):
    enc, X = fitted
    Z = enc.transform(X)
    assert np.array_equal(pickle.loads(pickle.dumps(enc)).transform(X), Z)
    joblib.dump(enc, tmp_path / "enc.joblib")
    assert np.array_equal(joblib.load(tmp_path / "enc.joblib").transform(X), Z)


def test_classifier_pickles(fitted):
    _, X = fitted
    clf = EAClassifier(random_state=0, **TINY).fit(X, ["a", "b"] * 3)
    clone = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(clone.predict_proba(X), clf.predict_proba(X))
    assert list(clone.classes_) == ["a", "b"]


def test_truncated_and_foreign_files_are_refused(tmp_path, fitted):
    enc, _ = fitted
    path = tmp_path / "model.tsea"
    enc.save(path)
    raw = path.read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 5):
        bad = tmp_path / f"cut{cut}.tsea"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="not a valid tsea model file"):
            EAEncoder.load(bad)
    foreign = tmp_path / "foreign.tsea"
    foreign.write_text("hello, I am a CSV file\n1,2,3\n")
    with pytest.raises(ValueError, match="not a valid tsea model file"):
        EAEncoder.load(foreign)
    other_zip = tmp_path / "other.tsea"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("tsea.json", json.dumps({"magic": "something-else"}))
        zf.writestr("arrays.npz", b"")
    with pytest.raises(ValueError, match="wrong magic"):
        EAEncoder.load(other_zip)
    with pytest.raises(FileNotFoundError):
        EAEncoder.load(tmp_path / "missing.tsea")


def test_future_version_and_wrong_kind(tmp_path):
    path = tmp_path / "m.tsea"
    write_model(path, "EAEncoder", {"a": 1}, {}, {"w": np.zeros(3, dtype=np.float32)})
    with pytest.raises(ValueError, match="holds a model of kind 'EAEncoder', not 'EAClassifier'"):
        EAClassifier.load(path)
    write_model(path, "EAForecaster", {"a": 1}, {}, {"w": np.zeros(3, dtype=np.float32)})
    with pytest.raises(ValueError, match="holds a model of kind 'EAForecaster', not one of "
                                         "'EAEncoder', 'EAClassifier', 'EARegressor'"):
        EAEncoder.load(path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("tsea.json"))
        arrays = zf.read("arrays.npz")
    header["format_version"] = 99
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tsea.json", json.dumps(header))
        zf.writestr("arrays.npz", arrays)
    with pytest.raises(ValueError, match="format version 99"):
        read_model(path)


def test_pickled_arrays_are_never_loaded(tmp_path):
    path = tmp_path / "evil.tsea"
    buf = io.BytesIO()
    np.savez(buf, w=np.array([{"x": 1}], dtype=object))  # an object array needs pickle
    header = {"magic": "tsea-model", "format_version": 1, "kind": "EAEncoder", "params": {},
              "meta": {}, "arrays": ["w"]}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tsea.json", json.dumps(header))
        zf.writestr("arrays.npz", buf.getvalue())
    with pytest.raises(ValueError, match="dtype object; model files hold real numbers"):
        read_model(path)


def test_save_is_atomic_and_refuses_unserialisable_params(tmp_path, fitted):
    enc, X = fitted
    path = tmp_path / "model.tsea"
    enc.save(path)
    before = path.read_bytes()
    bad = EAEncoder(trainer_kwargs={"callbacks": [object()]}, **TINY)
    bad.__dict__.update({k: v for k, v in enc.__dict__.items() if k.endswith("_")})
    with pytest.raises(ValueError, match="JSON-serialisable"):
        bad.save(path)
    assert path.read_bytes() == before  # the existing model file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["model.tsea"]  # no temp file left behind
    with pytest.raises(ValueError, match="object arrays"):
        write_model(tmp_path / "x.tsea", "EAEncoder", {}, {}, {"w": np.array([None])})
    assert not (tmp_path / "x.tsea").exists()


def test_crash_while_writing_keeps_the_old_file(tmp_path, fitted, monkeypatch):
    enc, _ = fitted
    path = tmp_path / "model.tsea"
    enc.save(path)
    before = path.read_bytes()

    def crash(self, name, data, *args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(OSError, match="disk full"):
        enc.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.tsea"]


def test_save_before_fit_raises(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EAEncoder().save(tmp_path / "m.tsea")


def test_files_and_pickles_from_before_hybrid_masks_pooling_and_block_load_as_they_behaved(
    tmp_path, fitted
):
    # Encoders saved before the ``hybrid_masks`` parameter existed were pre-trained with the
    # value-masked hybrid objective, and before ``pooling`` they pooled with max: loading one
    # must say so, whatever today's defaults are. Such a file holds the layout of its time.
    X = fitted[1]
    enc = EAEncoder(random_state=0, **AUTHORS_LAYOUT, **TINY).fit(X)
    path = tmp_path / "old.tsea"
    enc.save(path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("tsea.json"))
        arrays = zf.read("arrays.npz")
    del header["params"]["hybrid_masks"], header["params"]["pooling"], header["params"]["n_encoders"]
    for key in ("block", "causal", "attention_blocks", "attention_merge", "attention_norm"):
        del header["params"][key], header["meta"]["encoder_config"][key]
    header["meta"]["encoder_config"]["map_conv"] = "channels_last"  # older files name it
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("tsea.json", json.dumps(header))
        zf.writestr("arrays.npz", arrays)
    loaded = EAEncoder.load(path)
    assert (loaded.hybrid_masks, loaded.pooling) == ("values", "max")
    assert (loaded.block, loaded.causal, loaded.attention_blocks) == ("transformer", True, None)
    assert (loaded.attention_merge, loaded.attention_norm, loaded.n_encoders) == ("concat", False, 1)
    assert np.array_equal(loaded.transform(X), enc.transform(X, pooling="max"))

    clf = EAClassifier(random_state=0, **TINY).fit(X, ["a", "b"] * 3)
    for est in (enc, clf):
        state = dict(est.__getstate__())
        for key in ("hybrid_masks", "pooling", "block", "causal", "attention_blocks",
                    "attention_merge", "attention_norm", "n_encoders"):
            del state[key]
        old = type(est).__new__(type(est))
        old.__setstate__(state)
        assert (old.hybrid_masks, old.pooling) == ("values", "max")
        assert (old.block, old.causal, old.attention_blocks) == ("transformer", True, None)
        assert (old.attention_merge, old.attention_norm, old.n_encoders) == ("concat", False, 1)


@pytest.mark.parametrize("head, labels", [
    ("svm", ["a", "b"] * 30), ("svm", [3, 1, 2] * 20), ("ridge", [1, "b"] * 30),
    ("logistic", [True, False] * 30), ("finetune", ["x", "y"] * 30),
])
def test_classifier_save_load_gives_the_same_predictions(tmp_path, head, labels):
    X = _series(60, seed=3)
    clf = EAClassifier(head=head, random_state=0, **TINY).fit(X, labels)
    clf.save(tmp_path / "clf.tsea")
    loaded = EAClassifier.load(tmp_path / "clf.tsea")
    assert loaded.get_params() == clf.get_params()
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert list(loaded.classes_) == list(clf.classes_)
    Xt = _series(9, seed=4)
    assert np.array_equal(loaded.predict(Xt), clf.predict(Xt))
    assert np.array_equal(loaded.predict_proba(Xt), clf.predict_proba(Xt))
    with pytest.raises(ValueError, match="holds a model of kind 'EAClassifier', not 'EARegressor'"):
        EARegressor.load(tmp_path / "clf.tsea")
    # its encoder alone, for `tsea embed` and `tsea attention`: the embeddings its head reads
    encoder = EAEncoder.load(tmp_path / "clf.tsea")
    assert "head" not in encoder.get_params()
    Z = encoder.transform(Xt)
    assert np.array_equal(Z, clf._embed(clf._collection(Xt), pooling=clf.pooling))


@pytest.mark.parametrize("head", ["ridge", "svr", "finetune"])
def test_regressor_save_load_gives_the_same_predictions(tmp_path, head):
    X = _series(60, seed=5)
    y = np.linspace(-2.0, 5.0, 60)
    reg = EARegressor(head=head, random_state=0, **TINY).fit(X, y)
    reg.save(tmp_path / "reg.tsea")
    loaded = EARegressor.load(tmp_path / "reg.tsea")
    Xt = _series(7, seed=6)
    assert np.array_equal(loaded.predict(Xt), reg.predict(Xt))
    assert loaded.get_params() == reg.get_params()
    Z = EAEncoder.load(tmp_path / "reg.tsea").transform(Xt)
    assert np.array_equal(Z, reg._embed(reg._collection(Xt), pooling=reg.pooling))


@pytest.mark.parametrize("estimator", [EAClassifier, EARegressor])
def test_a_finetune_file_with_a_linear_layer_still_loads(tmp_path, estimator):
    """Files of head='finetune' written before its head was refitted with scikit-learn hold a
    torch linear layer's weights; they load, and predict through that layer."""
    import torch

    X = _series(40, seed=7)
    y = ["x", "y"] * 20 if estimator is EAClassifier else np.linspace(-1.0, 3.0, 40)
    model = estimator(head="finetune", random_state=0, **TINY).fit(X, y)
    n_out = 2 if estimator is EAClassifier else 1
    layer = torch.nn.Linear(model.head_[-1].coef_.shape[-1], n_out)
    model.head_ = layer.eval()  # as the older tsea left it
    model.save(tmp_path / "old.tsea")
    loaded = estimator.load(tmp_path / "old.tsea")
    assert isinstance(loaded.head_, torch.nn.Linear)
    Z = model._embed(model._collection(X), pooling=model.pooling)
    with torch.no_grad():
        out = layer(torch.from_numpy(Z)).double().numpy()
    if estimator is EAClassifier:
        assert np.array_equal(loaded.predict(X), loaded.classes_[out.argmax(axis=1)])
        np.testing.assert_allclose(loaded.decision_function(X), out[:, 1] - out[:, 0])
    else:
        assert np.allclose(loaded.predict(X), out[:, 0] * model.y_scale_ + model.y_mean_)


def test_numpy_scalar_parameters_are_saved_as_numbers(tmp_path):
    # a grid search over np.arange(...) or np.array([...]) sets numpy scalars
    X = _series(n=8)
    y = np.array(["a", "b"] * 4)
    # d_model, n_heads, lr and the booleans reached the network and the training as numpy
    # scalars, which refused them
    params = {**TINY, "repr_dim": np.int64(8), "dropout": np.float32(0.25),
              "random_state": np.int64(3), "d_model": np.int64(8), "n_heads": np.int64(2),
              "lr": np.float32(1e-3), "causal": np.bool_(True), "grad_clip": 0}
    clf = EAClassifier(**params).fit(X, y)
    clf.set_params(repr_dim=8, grad_clip=0.0)  # the same values as Python numbers: no change
    # an equal value the table refuses is a change: depth=2.0 was saved and then not loaded
    depth = TINY["depth"]
    with pytest.raises(ValueError, match=f"depth was {depth} at fit and is {float(depth)} now"):
        clf.set_params(depth=float(depth)).save(tmp_path / "float-depth.tsea")
    clf.set_params(depth=depth)
    path = tmp_path / "m.tsea"
    clf.save(path)
    loaded = EAClassifier.load(path)
    got = loaded.get_params()
    assert (got["repr_dim"], got["random_state"]) == (8, 3) and type(got["repr_dim"]) is int
    assert got["dropout"] == pytest.approx(0.25)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_load_model_reads_the_file_once(tmp_path, monkeypatch):
    # it read the kind, then the file again: replaced in between (an encoder by a classifier),
    # the second read refused "a model of kind 'EAEncoder', not 'EAClassifier'"
    from tsea import modelfile
    from tsea.estimators import load_model

    X = _series(n=8)
    EAClassifier(**TINY).fit(X, np.array(["a", "b"] * 4)).save(tmp_path / "m.tsea")
    reads = []
    real = modelfile._read

    def counted(*args, **kwargs):
        reads.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(modelfile, "_read", counted)
    assert isinstance(load_model(tmp_path / "m.tsea"), EAClassifier) and len(reads) == 1


def test_labels_of_any_length_are_saved_and_loaded(tmp_path):
    # a label over 1,024 characters made a file that the head check refused
    X = _series(n=8)
    y = np.array(["a" * 1100, "b"] * 4)
    clf = EAClassifier(**TINY).fit(X, y)
    clf.save(tmp_path / "m.tsea")
    back = EAClassifier.load(tmp_path / "m.tsea")
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
