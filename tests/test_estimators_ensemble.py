"""``n_encoders``: independently pre-trained encoders side by side, at one fit's step budget."""

import json
import zipfile

import numpy as np
import pytest
import torch
from conftest import TINY

from tsea.estimators import EAClassifier, EAEncoder
from tsea.nn import EADCEncoder, EncoderEnsemble, encoder_from_config
from tsea.training import split_budget
from tsea.utils import member_seeds

ENSEMBLE = {**TINY, "repr_dim": 8, "n_iters": 4}


def _series(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(2, int(L))) for L in rng.integers(8, 40, n)]


def test_an_ensemble_is_its_encoders_fitted_alone_side_by_side():
    # encoder i of seed s is the single encoder of seed 2s + i, with half of the features and
    # half of the steps: nothing else couples them
    X = _series()
    ens = EAEncoder(**ENSEMBLE, n_encoders=2, random_state=3).fit(X)
    alone = [EAEncoder(**{**ENSEMBLE, "repr_dim": 4, "n_iters": 2}, random_state=s).fit(X)
             for s in (6, 7)]
    Z = ens.transform(X)
    assert Z.shape == (8, 8) and isinstance(ens.encoder_, EncoderEnsemble)
    assert np.array_equal(Z, np.hstack([e.transform(X) for e in alone]))
    H = ens.transform(X, pooling=None)
    assert np.array_equal(H, np.concatenate([e.transform(X, pooling=None) for e in alone], -1),
                          equal_nan=True)
    assert not np.array_equal(Z[:, :4], Z[:, 4:])  # two different encoders
    maps, single = ens.attention_maps(X[:1])[0], alone[1].attention_maps(X[:1])[0]
    assert maps.shape[1] == 2 * single.shape[1] and np.array_equal(maps[:, 2:], single)


def test_one_encoder_is_the_plain_encoder():
    X = _series()
    one = EAEncoder(**ENSEMBLE, random_state=2).fit(X)
    assert isinstance(one.encoder_, EADCEncoder) and "n_encoders" not in one.encoder_.config
    assert np.array_equal(EAEncoder(**ENSEMBLE, n_encoders=1, random_state=2).fit(X).transform(X),
                          one.transform(X))


def test_split_budget_shares_the_steps_or_epochs_rounded_up():
    small, large = (10, 1, 100), (1000, 1, 101)  # TS2Vec's rule: 200 and 600 steps
    assert split_budget(None, None, small, 1) == {"n_iters": 200, "max_epochs": None}
    assert split_budget(None, None, small, 2) == {"n_iters": 100, "max_epochs": None}
    assert split_budget(None, None, small, 3) == {"n_iters": 67, "max_epochs": None}
    assert split_budget(None, None, large, 2) == {"n_iters": 300, "max_epochs": None}
    assert split_budget(None, 5, small, 2) == {"n_iters": None, "max_epochs": 3}
    assert split_budget(7, 4, small, 2) == {"n_iters": 4, "max_epochs": 2}
    assert split_budget("ts2vec", 4, large, 4) == {"n_iters": 150, "max_epochs": 1}


def test_member_seeds_are_distinct_and_one_encoder_keeps_its_seed():
    assert member_seeds(5, 1) == [5]
    assert member_seeds(5, 2) == [10, 11] and member_seeds(6, 2) == [12, 13]
    assert member_seeds(2**32 - 1, 2) == [2**32 - 2, 2**32 - 1]  # stays a valid seed
    assert len(set(member_seeds(123, 8))) == 8


def test_bad_n_encoders_is_refused_by_name():
    X = _series()
    with pytest.raises(ValueError, match="repr_dim = 8 must be a multiple of n_encoders = 3"):
        EAEncoder(**ENSEMBLE, n_encoders=3).fit(X)
    with pytest.raises(ValueError, match="n_encoders must be an int in the range"):
        EAEncoder(**ENSEMBLE, n_encoders=0).fit(X)
    with pytest.raises(ValueError, match="share one architecture"):
        EncoderEnsemble([EADCEncoder(2, repr_dim=4, d_model=8, depth=1, n_heads=2, reuse_heads=1),
                         EADCEncoder(2, repr_dim=4, d_model=8, depth=2, n_heads=2, reuse_heads=1)])


def test_ensemble_save_load_and_a_tampered_count(tmp_path):
    X = _series()
    ens = EAEncoder(**ENSEMBLE, n_encoders=2, random_state=0).fit(X)
    path = tmp_path / "ens.tsea"
    ens.save(path)
    loaded = EAEncoder.load(path)
    assert loaded.n_encoders == 2 and loaded.depth_ == ens.depth_
    assert np.array_equal(loaded.transform(X), ens.transform(X))
    with zipfile.ZipFile(path) as zf:
        header, arrays = json.loads(zf.read("tsea.json")), zf.read("arrays.npz")
    header["params"]["n_encoders"] = 1
    bad = tmp_path / "bad.tsea"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("tsea.json", json.dumps(header))
        zf.writestr("arrays.npz", arrays)
    with pytest.raises(ValueError, match=r"params\['n_encoders'\] = 1 but the encoder has n_enc"):
        EAEncoder.load(bad)
    config = ens.encoder_.config
    assert config["repr_dim"] == 8 and config["n_encoders"] == 2
    rebuilt = encoder_from_config(config)
    assert [tuple(p.shape) for p in rebuilt.parameters()] == [
        tuple(p.shape) for p in ens.encoder_.parameters()]
    with pytest.raises(ValueError, match="divide repr_dim"):
        encoder_from_config({**config, "n_encoders": 3})


@pytest.mark.parametrize("head", ["logistic", "finetune"])
def test_classifier_with_an_ensemble(head):
    X, y = _series(12), ["a", "b"] * 6
    clf = EAClassifier(head, **ENSEMBLE, n_encoders=2, random_state=0).fit(X, y)
    assert clf.predict(X).shape == (12,) and clf.predict_proba(X).shape == (12, 2)
    if head == "finetune":
        assert clf.head_[-1].coef_.shape[1] == 8  # the joined width
    with torch.no_grad():
        # 4 input channels: the 2 values' and their first differences'
        assert clf.encoder_(torch.zeros(1, 4, 10)).shape == (1, 10, 8)
