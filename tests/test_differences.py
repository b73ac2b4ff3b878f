"""``differences=True``: each channel's first differences as more input channels."""

import numpy as np
import pytest
from conftest import TINY

from tsea.data.scale import append_differences
from tsea.estimators import EAClassifier, EAEncoder


def _series(n=6, channels=2, seed=0, step=3):
    """Random walks of unequal lengths (20, 20 + step, ...)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(channels, 20 + step * i)).astype(np.float32).cumsum(axis=1)
            for i in range(n)]


def _padded(series):
    X = np.full((len(series), series[0].shape[0], max(s.shape[1] for s in series)), np.nan,
                np.float32)
    for i, s in enumerate(series):
        X[i, :, : s.shape[1]] = s
    return X


def test_append_differences_values_and_padding():
    X = _padded([np.array([[1.0, 4.0, 2.0], [0.5, 0.5, 1.5]]), np.array([[3.0, -1.0], [2.0, 2.0]])])
    F = append_differences(X)
    assert F.shape == (2, 4, 3) and F.dtype == np.float32
    assert np.array_equal(F[:, :2], X, equal_nan=True)  # the values, unchanged
    assert np.array_equal(F[0, 2:], [[0.0, 3.0, -2.0], [0.0, 0.0, 1.0]])
    assert np.array_equal(F[1, 2:, :2], [[0.0, -4.0], [0.0, 0.0]])
    assert np.isnan(F[1, 2:, 2]).all()  # padding stays padding


def test_same_network_as_fitting_on_the_appended_channels():
    """differences=True is exactly a fit without it on the appended channels: the channel
    statistics, the encoder's input width and every embedding agree."""
    series = _series(step=0)
    with_diff = EAEncoder(differences=True, random_state=0, **TINY).fit(series)
    by_hand = EAEncoder(differences=False, random_state=0, **TINY).fit(
        append_differences(_padded(series)))
    assert with_diff.n_channels_ == 2 and with_diff.encoder_.config["in_channels"] == 4
    assert with_diff.channel_mean_.shape == (4,)
    assert np.allclose(with_diff.channel_mean_, by_hand.channel_mean_)
    assert np.allclose(with_diff.channel_std_, by_hand.channel_std_)
    Z = with_diff.transform(series)
    assert np.allclose(Z, by_hand.transform(append_differences(_padded(series))), atol=1e-5)
    plain = EAEncoder(differences=False, random_state=0, **TINY).fit(series)
    assert not np.allclose(Z, plain.transform(series))


def test_padding_and_batch_never_change_an_embedding():
    series = _series()
    enc = EAEncoder(differences=True, random_state=0, **TINY).fit(series)
    Z = enc.transform(series)
    alone = np.stack([enc.transform([s])[0] for s in series])
    assert np.allclose(Z, alone, atol=1e-5)
    with pytest.raises(ValueError, match="^X has 1 channel, but this EAEncoder was fitted on 2 channels$"):
        enc.transform([s[:1] for s in series])


def test_save_load_and_classifier(tmp_path):
    series = _series(8)
    y = np.arange(8) % 2
    clf = EAClassifier(differences=True, random_state=0, **TINY).fit(series, y)
    clf.save(tmp_path / "m.tsea")
    back = EAClassifier.load(tmp_path / "m.tsea")
    assert back.differences is True
    assert np.array_equal(back.predict_proba(series), clf.predict_proba(series))


def test_an_out_of_range_difference_names_its_channel():
    X = np.zeros((3, 1, 6), np.float32)
    X[0, 0, 2:] = 9e14  # every value in range, the jump to it (9e14) too
    X[1, 0, 3] = -9e14  # a jump of 1.8e15 back up at step 4 (and down at step 3)
    X[1, 0, 4] = 9e14
    with pytest.raises(ValueError, match=r"series 1, the first difference of channel 0, step 4 "
                                         r"has value 1\.8e\+15.*use differences=False$"):
        EAEncoder(differences=True, normalize=None, **TINY).fit(X)
    # a raw channel out of range: per-series normalisation is a way out; for an overflowing
    # difference it is not (it used to be the advice for both)
    X[1, 0, 4] = 2e15
    with pytest.raises(ValueError, match=r"series 1, channel 0, step 4 .*use normalize='series'$"):
        EAEncoder(differences=True, normalize=None, **TINY).fit(X)


def test_the_step_budget_follows_the_data_not_the_derived_channels(monkeypatch):
    """TS2Vec's rule gives 200 steps up to 100,000 training values: 60,000 values stay at 200
    steps with differences, although the network sees 120,000."""
    import tsea.estimators._base as base

    seen = []
    real = base._training.pretrain

    def spy(encoder, X, lengths, **kwargs):
        seen.append((X.shape, kwargs["n_iters"]))
        return real(encoder, X[:4], lengths[:4], **{**kwargs, "n_iters": 1})

    monkeypatch.setattr(base._training, "pretrain", spy)
    X = np.random.default_rng(0).normal(size=(600, 1, 100)).astype(np.float32)
    params = {**TINY, "n_iters": None}
    EAEncoder(differences=True, random_state=0, **params).fit(X)
    EAEncoder(differences=False, random_state=0, **params).fit(np.concatenate([X, X], axis=2))
    assert seen == [((600, 2, 100), 200), ((600, 1, 200), 600)]
