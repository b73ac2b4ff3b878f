"""readout="canvas": TS2Vec's padded readout (tsea.nn.inference, the estimators, model files)."""

import json
import zipfile

import numpy as np
import pytest
import torch
from conftest import TINY
from sklearn.utils._param_validation import InvalidParameterError

from tsea.estimators import EAClassifier, EAEncoder
from tsea.nn.pooling import pool

# TS2Vec's backbone (same padding), where the padding can reach the valid steps
LAYOUT = dict(TINY, block="preact", causal=False, depth=2)


def _series(lengths, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(channels, int(L))).cumsum(axis=1).astype(np.float32)
            for L in lengths]


@pytest.fixture(scope="module", params=["none", "evolving"])
def fitted(request):
    X = _series([30, 12, 25, 30, 7, 18])
    return EAEncoder(attention=request.param, random_state=0, **LAYOUT).fit(X), X


def _ts2vec_readout(enc, x, width):
    """TS2Vec's encoding of one (C, n) series padded to ``width``: the padded steps' input
    projection is zero, the network runs over every step, and the max is over every step."""
    n = x.shape[1]
    z = enc._normalize(x[None].astype(np.float64)).astype(np.float32)  # the network's input
    canvas = np.zeros((1, z.shape[1], width), dtype=np.float32)
    canvas[:, :, :n] = z
    keep = torch.zeros(1, width, dtype=torch.bool)
    keep[:, :n] = True
    with torch.inference_mode():
        H = enc.encoder_(torch.from_numpy(canvas), proj_mask=keep)
    return pool(H, torch.ones(1, width, dtype=torch.bool), "max")[0].numpy()


def test_a_short_series_is_read_in_the_training_width_as_ts2vec_reads_it(fitted):
    enc, X = fitted
    assert enc.train_length_ == 30
    valid = enc.transform(X)
    canvas = enc.set_params(readout="canvas").transform(X)
    enc.set_params(readout="valid")
    for i, x in enumerate(X):
        want = _ts2vec_readout(enc, x, enc.train_length_)
        assert np.allclose(canvas[i], want, atol=1e-5), i
        if x.shape[1] == enc.train_length_:  # no padding: the two readouts agree exactly
            assert np.array_equal(canvas[i], valid[i])
        else:
            assert not np.allclose(canvas[i], valid[i], atol=1e-3)


def test_canvas_readout_does_not_depend_on_the_batch_or_the_order(fitted):
    enc, X = fitted
    enc.set_params(readout="canvas")
    try:
        Z = enc.transform(X)
        alone = np.stack([enc.transform([x])[0] for x in X])
        perm = np.random.default_rng(1).permutation(len(X))
        Zp = enc.transform([X[i] for i in perm])
    finally:
        enc.set_params(readout="valid")
    assert np.allclose(Z, alone, atol=1e-5)
    assert np.allclose(Zp, Z[perm], atol=1e-5)


def test_longer_series_equal_lengths_and_interior_nan_read_as_with_valid(fitted):
    enc, X = fitted
    long = _series([45, 30], seed=3)  # longer than the training width, and exactly as long
    equal = np.stack(_series([30] * 4, seed=4))
    equal[1, 0, 5] = np.nan  # interior missing values keep their handling
    equal[2, :, 9:12] = np.nan
    outs = {}
    for readout in ("valid", "canvas"):
        enc.set_params(readout=readout)
        outs[readout] = [enc.transform(long), enc.transform(equal),
                         enc.transform(equal, pooling=None)]
    enc.set_params(readout="valid")
    for a, b in zip(outs["valid"], outs["canvas"]):
        assert np.array_equal(a, b, equal_nan=True)


def test_per_step_output_keeps_each_series_own_steps(fitted):
    enc, X = fitted
    enc.set_params(readout="canvas")
    try:
        H = enc.transform(X, pooling=None)
        Z = enc.transform(X)
    finally:
        enc.set_params(readout="valid")
    assert H.shape == (len(X), 30, 8)
    for i, x in enumerate(X):
        assert np.isfinite(H[i, : x.shape[1]]).all() and np.isnan(H[i, x.shape[1]:]).all()
        # the pooled embedding also covers the window past the series' end
        assert (Z[i] >= H[i, : x.shape[1]].max(axis=0) - 1e-6).all()


def test_readout_is_validated():
    X = _series([10, 8])
    with pytest.raises(InvalidParameterError, match="readout"):
        EAEncoder(readout="full", **TINY).fit(X)
    enc = EAEncoder(random_state=0, **TINY).fit(X)
    with pytest.raises(ValueError, match="readout must be one of"):
        enc.set_params(readout="full").transform(X)


def test_model_files_keep_the_training_width(tmp_path, fitted):
    enc, X = fitted
    enc.set_params(readout="canvas")
    try:
        path = tmp_path / "m.tsea"
        enc.save(path)
        loaded = EAEncoder.load(path)
        assert loaded.readout == "canvas" and loaded.train_length_ == 30
        assert np.array_equal(loaded.transform(X), enc.transform(X))
    finally:
        enc.set_params(readout="valid")
    # a file from before the width was stored loads, and canvas says what is missing
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("tsea.json"))
        arrays = zf.read("arrays.npz")
    del header["meta"]["train_length"], header["params"]["readout"]
    old = tmp_path / "old.tsea"
    with zipfile.ZipFile(old, "w") as zf:
        zf.writestr("tsea.json", json.dumps(header))
        zf.writestr("arrays.npz", arrays)
    loaded = EAEncoder.load(old)
    assert loaded.readout == "valid" and loaded.train_length_ is None
    assert np.array_equal(loaded.transform(X), enc.transform(X))
    with pytest.raises(ValueError, match="train_length_"):
        loaded.set_params(readout="canvas").transform(X)
    # a stored width that is not a positive integer is refused
    for bad in (0, -3, 2.5, "30"):
        header["meta"]["train_length"] = bad
        with zipfile.ZipFile(old, "w") as zf:
            zf.writestr("tsea.json", json.dumps(header))
            zf.writestr("arrays.npz", arrays)
        with pytest.raises(ValueError, match="train_length"):
            EAEncoder.load(old)


def test_classifier_reads_with_its_readout():
    X = _series([20, 9, 14, 20, 11, 6, 17, 20], seed=5)
    y = ["a", "b"] * 4
    clf = EAClassifier(readout="canvas", random_state=0, **LAYOUT).fit(X, y)
    assert clf.train_length_ == 20
    enc = EAEncoder(readout="canvas", random_state=0, **LAYOUT).fit(X)
    assert np.array_equal(clf._embed(clf._collection(X)), enc.transform(X))
    assert clf.predict(X).shape == (8,)


@pytest.mark.parametrize("readout", ["valid", "canvas"])
def test_attention_maps_come_from_the_input_transform_reads(readout, monkeypatch):
    # tsea attention read a short series at its own length under readout="canvas", where
    # transform reads it in the training width: other strides, other maps than the model's
    X = _series([30, 12, 25, 30, 7, 18])
    enc = EAEncoder(random_state=0, **{**LAYOUT, "max_attention_len": 8}).fit(X)
    enc.set_params(readout=readout)
    seen = []
    forward = enc.encoder_.forward

    def spy(x, lengths=None, proj_mask=None, **kwargs):
        seen.append((x.clone(), lengths.clone(), None if proj_mask is None else proj_mask.clone()))
        return forward(x, lengths=lengths, proj_mask=proj_mask, **kwargs)

    monkeypatch.setattr(enc.encoder_, "forward", spy)
    short = X[4:5]  # 7 steps of a training width of 30
    enc.transform(short)
    (maps,) = enc.attention_maps(short)
    (x_t, len_t, mask_t), (x_m, len_m, mask_m) = seen
    assert torch.equal(len_t, len_m) and int(len_m[0]) == (30 if readout == "canvas" else 7)
    assert torch.equal(torch.nan_to_num(x_t, nan=-1.0), torch.nan_to_num(x_m, nan=-1.0))
    if readout == "canvas":
        assert torch.equal(mask_t, mask_m) and int(mask_m.sum()) == 7
    else:
        assert mask_m is None or bool(mask_m.all())
    assert maps.shape[-1] == (8 if readout == "canvas" else 7)  # tokens of 30 vs 7 steps
