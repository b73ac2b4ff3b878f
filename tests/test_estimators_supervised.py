"""EAClassifier / EARegressor: heads, labels, errors, ecosystem (Pipeline, GridSearchCV...)."""

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

from tsea.estimators import EAClassifier, EAEncoder, EARegressor


def _two_classes(n_per_class=8, seed=0):
    """Class 0: slow sine; class 1: fast sine (unequal lengths, 2 channels)."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for label, freq in ((0, 0.1), (1, 0.8)):
        for _ in range(n_per_class):
            L = int(rng.integers(20, 40))
            t = np.arange(L)
            x = np.stack([np.sin(freq * t), np.cos(freq * t)]) + 0.05 * rng.normal(size=(2, L))
            X.append(x)
            y.append(label)
    return X, np.array(y)


@pytest.mark.parametrize("head", ["svm", "ridge", "logistic"])
def test_classifier_heads_learn_an_easy_problem(head):
    X, y = _two_classes()
    clf = EAClassifier(head=head, random_state=0, **TINY).fit(X, y)
    assert clf.score(X, y) >= 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


@pytest.mark.parametrize("head", ["svm", "ridge", "logistic"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_function_matches_predict_and_proba(head, n_classes):
    from scipy.special import softmax
    from sklearn.metrics import roc_auc_score

    X, y = _two_classes()
    y = np.array(["a", "b", "c"])[np.arange(len(y)) % n_classes] if n_classes == 3 else y
    clf = EAClassifier(head=head, random_state=0, **TINY).fit(X, y)
    scores = clf.decision_function(X)
    if n_classes == 2:
        assert scores.shape == (len(X),)
        assert np.array_equal(clf.classes_[(scores > 0).astype(int)], clf.predict(X))
        assert roc_auc_score(y, scores) == roc_auc_score(y, clf.predict_proba(X)[:, 1])
    else:
        assert scores.shape == (len(X), 3)
        assert np.array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X))
        if head != "logistic":  # the softmax of the scores, as predict_proba documents
            np.testing.assert_allclose(clf.predict_proba(X), softmax(scores, axis=1), rtol=1e-6)


@pytest.mark.slow
def test_finetune_head_classifier():
    X, y = _two_classes()
    # 100 steps: at 50 a tiny network fine-tunes to 0.5-1.0 on this problem, depending on the seed
    clf = EAClassifier(head="finetune", random_state=0, **{**TINY, "n_iters": 100}).fit(X, y)
    assert isinstance(clf.predict(X)[0], np.integer)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) >= 0.8


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["walk", "run"]),
        np.array([3, -1]),
        np.array([1, "a"], dtype=object),
    ],
    ids=["str", "int", "mixed"],
)
def test_labels_round_trip(labels):
    X, y = _two_classes(4)
    y_lab = labels[y]
    clf = EAClassifier(head="ridge", random_state=0, **TINY).fit(X, y_lab)
    assert set(clf.classes_.tolist()) == set(labels.tolist())
    pred = clf.predict(X)
    assert set(pred.tolist()) <= set(labels.tolist())
    assert clf.score(X, y_lab) >= 0.9
    if labels.dtype == object:
        assert clf.classes_.tolist() == [1, "a"]  # numbers first, then strings
    else:
        assert clf.classes_.tolist() == sorted(labels.tolist())


@pytest.mark.parametrize("head", ["ridge", "svr", "finetune"])
def test_regressor_heads(head):
    X, y = _two_classes(8)
    target = 100.0 + 10.0 * y  # frequency -> a number
    reg = EARegressor(head=head, random_state=0, **{**TINY, "n_iters": 20}).fit(X, target)
    pred = reg.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == np.float64
    assert np.abs(pred - target).mean() < 5.0  # far better than the constant 105 (error 5)


def test_dates_and_durations_are_not_regression_targets():
    # they were cast to nanosecond counts (predictions about 1.6e18) without a word
    X, _ = _two_classes(2)
    dates = np.array(["2024-01-01", "2024-01-02"] * 2, dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"y holds dates \(datetime64\[D\]\); a regressor needs "
                                         "numbers"):
        EARegressor(**TINY).fit(X, dates)
    with pytest.raises(ValueError, match="y holds durations"):
        EARegressor(**TINY).fit(X, pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="s")))


def test_supervised_errors():
    X, y = _two_classes(3)
    with pytest.raises(NotFittedError):
        EAClassifier(**TINY).predict(X)
    with pytest.raises(NotFittedError):
        EARegressor(**TINY).predict(X)
    with pytest.raises(ValueError, match="y has 5 entries but X has 6 series"):
        EAClassifier(**TINY).fit(X, y[:5])
    with pytest.raises(ValueError, match="y has 7 entries but X has 6 series"):
        EARegressor(**TINY).fit(X, np.zeros(7))
    with pytest.raises(ValueError, match=r"single class \(0\); "):
        EAClassifier(**TINY).fit(X, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match="Unknown label type"):
        EAClassifier(**TINY).fit(X, np.linspace(0, 1, 6))
    with pytest.raises(ValueError, match=r"NaN labels, at y\[2\] \(1 of 6 entries\)"):
        EAClassifier(**TINY).fit(X, np.array([0.0, 1, np.nan, 0, 1, 0]))
    with pytest.raises(ValueError, match=r"infinite labels, at y\[2\] \(1 of 6 entries\)"):
        EAClassifier(**TINY).fit(X, np.array([0.0, 1, np.inf, 0, 1, 0]))
    with pytest.raises(ValueError, match=r"missing labels \(None, NaN or pd.NA\), at y\[1\] \(1 of 6"):
        EAClassifier(**TINY).fit(X, np.array(["a", None, "b", "a", "b", "a"], dtype=object))
    for missing in (pd.NA, pd.NaT):  # a pandas "string" column's gap is pd.NA, not NaN
        with pytest.raises(ValueError, match=r"missing labels .*, at y\[5\] \(1 of 6"):
            EAClassifier(**TINY).fit(X, pd.Series(["a", "b", "a", "b", "a", missing], dtype=object))
    with pytest.raises(ValueError, match=r"missing labels .*, at y\[5\]"):
        EAClassifier(**TINY).fit(X, pd.Series(["a", "b", "a", "b", "a", None], dtype="string"))
    with pytest.raises(ValueError, match=r"NaN or infinite values, at y\[1\] \(2 of 6 entries\)"):
        EARegressor(**TINY).fit(X, np.array([1.0, np.nan, 2, 3, -np.inf, 5]))
    with pytest.raises(ValueError, match="numeric"):
        EARegressor(**TINY).fit(X, np.array(list("abcdef")))
    with pytest.raises(ValueError, match="EAClassifier: head must be a str among .*Got 'svr'"):
        EAClassifier(head="svr", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="EARegressor: head must be a str among .*Got 'svm'"):
        EARegressor(head="svm", **TINY).fit(X, y.astype(float))
    clf = EAClassifier(head="ridge", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="3 channels"):
        clf.predict(np.zeros((2, 3, 10)))
    # text labels scored with numbers: every prediction would count wrong (scikit-learn's
    # accuracy_score refuses the mix too)
    text = EAClassifier(head="ridge", **TINY).fit(X, y.astype(str))
    assert text.score(X, y.astype(str)) > 0.5
    with pytest.raises(ValueError, match=r"another kind \(numbers\) than the classifier's "
                                          r"classes \(text: '0', '1'\); convert y"):
        text.score(X, y)
    with pytest.raises(ValueError, match=r"another kind \(text\) .* \(numbers: 0, 1\)"):
        clf.score(X, y.astype(str))
    # a missing label is no wrong prediction: refused, as fit and accuracy_score refuse it
    with pytest.raises(ValueError, match=r"y contains NaN labels, at y\[2\] \(1 of 6"):
        clf.score(X, np.where(np.arange(6) == 2, np.nan, y.astype(float)))
    with pytest.raises(ValueError, match=r"missing labels \(None, NaN or pd.NA\), at y\[0\]"):
        text.score(X, np.array([None, *y.astype(str)[1:]], dtype=object))
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\), but y has 6 entries"):
        clf.score(X, y, sample_weight=[1.0, 2.0])


def test_pooling_parameter_defaults_and_wiring():
    assert EAClassifier().pooling == "max" and EARegressor().pooling == "max"
    X, y = _two_classes(6)
    clf = EAClassifier(head="ridge", pooling="max+mean", random_state=0, **TINY).fit(X, y)
    assert clf.head_.n_features_in_ == 2 * TINY["repr_dim"]
    # the head sees the encoder's max- and mean-pooled embeddings side by side
    enc = EAEncoder(random_state=0, **TINY).fit(X)
    Z = enc.transform(X, pooling="max+mean")
    assert np.array_equal(Z[:, : TINY["repr_dim"]], enc.transform(X, pooling="max"))
    assert np.array_equal(clf.predict(X), clf.classes_[clf.head_.predict(Z)])
    single = EAClassifier(head="ridge", pooling="max", random_state=0, **TINY).fit(X, y)
    assert single.head_.n_features_in_ == TINY["repr_dim"]
    reg = EARegressor(pooling="mean", random_state=0, **TINY).fit(X, y.astype(float))
    assert reg.head_.n_features_in_ == TINY["repr_dim"]
    for bad in (None, "median", 3):
        with pytest.raises(ValueError, match="pooling must be a str among"):
            EAClassifier(pooling=bad, **TINY).fit(X, y)
        with pytest.raises(ValueError, match="pooling must be a str among"):
            EARegressor(pooling=bad, **TINY).fit(X, y.astype(float))


def test_finetune_head_width_follows_pooling():
    X, y = _two_classes(6)
    clf = EAClassifier(head="finetune", pooling="max+mean", random_state=0, **TINY).fit(X, y)
    assert clf.head_[-1].coef_.shape[1] == 2 * TINY["repr_dim"]
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_unpickling_an_estimator_from_before_the_pooling_parameter():
    import pickle

    X, y = _two_classes(6)
    clf = EAClassifier(head="ridge", pooling="max", random_state=0, **TINY).fit(X, y)
    state = dict(clf.__getstate__())  # a copy: Python's __getstate__ is the live __dict__
    del state["pooling"]  # what an estimator pickled before the parameter existed holds
    old = EAClassifier.__new__(EAClassifier)
    old.__setstate__(state)
    assert old.pooling == "max"
    assert np.array_equal(old.predict(X), clf.predict(X))
    assert np.array_equal(pickle.loads(pickle.dumps(old)).predict(X), clf.predict(X))


def test_pipeline_grid_search_cross_val_and_clone():
    X, y = _two_classes(6)
    X = np.stack([x[:, :20] for x in X])  # equal length (n, C, L)
    clf = EAClassifier(head="ridge", random_state=0, **TINY)
    scores = cross_val_score(clf, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores >= 0.5)
    search = GridSearchCV(clf, {"attention": ["none", "evolving"]}, cv=2).fit(X, y)
    assert search.best_params_["attention"] in ("none", "evolving")
    assert search.predict(X).shape == (len(X),)
    assert clone(clf).get_params() == clf.get_params()

    from sklearn.linear_model import LogisticRegression

    pipe = Pipeline([("enc", EAEncoder(random_state=0, **TINY)), ("lr", LogisticRegression())])
    assert pipe.fit(X, y).score(X, y) >= 0.9


def test_accepts_aeon_and_sktime_loader_outputs():
    from aeon.datasets import load_classification

    X, y = load_classification("BasicMotions", split="train")
    idx = np.r_[0:3, 37:40]  # a handful of series from two different classes
    clf = EAClassifier(head="ridge", random_state=0, **TINY).fit(X[idx], y[idx])
    assert set(clf.classes_) == set(y[idx]) and clf.classes_.dtype.kind == "U"

    sktime_datasets = pytest.importorskip("sktime.datasets")
    Xs, ys = sktime_datasets.load_basic_motions(split="train", return_X_y=True)
    sub = Xs.iloc[idx]
    clf2 = EAClassifier(head="ridge", random_state=0, **TINY).fit(sub, ys[idx])
    # the same data in the sktime nested DataFrame gives the same model as aeon's array
    assert np.allclose(clf2.predict_proba(sub), clf.predict_proba(X[idx]), atol=1e-5)

    from aeon.datasets import load_regression

    Xr, yr = load_regression("Covid3Month", split="train")
    reg = EARegressor(random_state=0, **TINY).fit(Xr[:8], yr[:8])
    assert reg.predict(Xr[:8]).shape == (8,)


def test_nearly_identical_embeddings_are_reported():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = _two_classes(6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EAClassifier(head="ridge", random_state=0, **TINY).fit(X, y)
    assert not [w for w in caught if "nearly identical" in str(w.message)]
    # twelve copies of one series under two labels: every embedding is the same
    same = [X[0]] * len(X)
    with pytest.warns(ConvergenceWarning, match="12 training series are nearly identical"):
        EAClassifier(head="ridge", random_state=0, **TINY).fit(same, y)
    with pytest.warns(ConvergenceWarning, match="nearly identical"):
        EARegressor(random_state=0, **TINY).fit(same, y.astype(float))


def test_default_heads_and_the_baselines_share_them():
    from sklearn.linear_model import LogisticRegression, RidgeCV

    from tsea.benchmark.baselines import default_head

    assert EAClassifier().head == "logistic" and EARegressor().head == "ridge"
    X, y = _two_classes(6)
    clf = EAClassifier(random_state=0, **TINY).fit(X, y)
    assert isinstance(clf.head_[-1], LogisticRegression)
    # TS2Vec's embeddings are read with the same heads as tsea's (not TS2Vec's own SVM)
    assert isinstance(default_head("classification", len(y), y)[-1], LogisticRegression)
    assert isinstance(default_head("regression", len(y), y.astype(float))[-1], RidgeCV)


@pytest.mark.parametrize("estimator,y_of", [
    (EAClassifier, lambda y: y),
    (EARegressor, lambda y: 3.0 * y + np.linspace(0.0, 1.0, len(y))),
])
def test_finetune_starts_from_the_linear_probe_of_the_training_part(estimator, y_of, monkeypatch):
    """LP-FT: the layer handed to fine-tuning is the logistic (ridge) head fitted on the frozen
    encoder's embeddings of the series it trains on, folded into one linear map."""
    import torch

    from tsea import training
    from tsea.heads import make_head

    X, y = _two_classes()
    model = estimator(head="finetune", random_state=0, **TINY)
    real, seen = training.finetune, {}
    idx = np.arange(0, len(y), 2)

    def spy(encoder, X_net, lengths, target, **kwargs):
        # before fine-tuning: model.encoder_ is the pre-trained encoder
        seen["Z"] = model._embed(model._collection(X), pooling=model.pooling)[idx]
        seen["target"], seen["layer"] = target[idx], kwargs["probe"](idx)
        return real(encoder, X_net, lengths, target, **kwargs)

    monkeypatch.setattr(training, "finetune", spy)
    model.fit(X, y_of(y))
    Z, target = seen["Z"], seen["target"]
    task = "classification" if estimator is EAClassifier else "regression"
    head = make_head(task, "logistic" if task == "classification" else "ridge", len(idx), target)
    head.fit(Z, target)
    with torch.no_grad():
        out = seen["layer"](torch.from_numpy(Z)).double().numpy()
    if task == "classification":
        proba = np.exp(out - out.max(axis=1, keepdims=True))
        assert np.allclose(proba / proba.sum(axis=1, keepdims=True), head.predict_proba(Z), atol=1e-4)
    else:
        assert np.allclose(out[:, 0], head.predict(Z), atol=1e-4)


@pytest.mark.parametrize("estimator,y_of", [
    (EAClassifier, lambda y: np.array(["a", "b"])[y]),
    (EARegressor, lambda y: 3.0 * y + np.linspace(0.0, 1.0, len(y))),
])
def test_finetune_refits_its_head_on_every_training_series(estimator, y_of):
    """After fine-tuning, the logistic (ridge) head is fitted afresh on the fine-tuned
    encoder's embeddings of all training series, not only those left after the validation
    split; the regressor's head fits the standardised target and its predictions are mapped
    back."""
    from tsea.heads import make_head

    X, y = _two_classes()
    target = y_of(y)
    model = estimator(head="finetune", random_state=0, **TINY).fit(X, target)
    Z = model._embed(model._collection(X), pooling=model.pooling)  # the fine-tuned encoder's
    if estimator is EAClassifier:
        head = make_head("classification", "logistic", len(y), y).fit(Z, y)
        assert np.allclose(model.predict_proba(X), head.predict_proba(Z))
        assert np.array_equal(model.predict(X), model.classes_[head.predict(Z)])
    else:
        std = (target - target.mean()) / target.std()
        head = make_head("regression", "ridge", len(y), std).fit(Z, std)
        assert np.allclose(model.predict(X), head.predict(Z) * target.std() + target.mean())
    assert np.array_equal(model._head_train_[0], Z)


def test_parameters_the_fitted_model_embodies_cannot_change_after_fit(tmp_path):
    """set_params after fit used to change outputs silently (differences, pooling of a head),
    or let save write a file that load refuses (depth) or that loads as another head."""
    X, y = _two_classes(4)
    enc = EAEncoder(**TINY).fit(X)
    Z = enc.transform(X)
    enc.set_params(pooling="mean", readout="canvas", n_jobs=2, verbose=False)  # per call: free
    enc.transform(X)
    enc.set_params(pooling=TINY.get("pooling", "max"), readout="valid")
    np.testing.assert_array_equal(enc.transform(X), Z)
    for name, value in (("differences", False), ("depth", 7), ("lr", 0.5)):
        enc.set_params(**{name: value})
        for use in (lambda: enc.transform(X), lambda: enc.save(tmp_path / "e.tsea"),
                    lambda: enc.attention_maps(X)):
            with pytest.raises(ValueError, match=f"EAEncoder: {name} was .* at fit and is "
                                                 f"{value!r} now; .*refit, or set_params"):
                use()
        enc.set_params(**{name: EAEncoder(**TINY).get_params()[name]})
    enc.save(tmp_path / "e.tsea")
    loaded = EAEncoder.load(tmp_path / "e.tsea")
    with pytest.raises(ValueError, match=f"depth was {TINY['depth']} at fit"):
        loaded.set_params(depth=3).transform(X)
    clf = EAClassifier(**TINY).fit(X, y)
    for name, value in (("head", "svm"), ("pooling", "mean"), ("readout", "canvas")):
        with pytest.raises(ValueError, match=f"EAClassifier: {name} was .*only device, n_jobs"):
            clf.set_params(**{name: value}).predict(X)
        clf.set_params(**{name: EAClassifier(**TINY).get_params()[name]})
    clf.set_params(n_jobs=1, device="cpu").predict(X)


@pytest.mark.parametrize("estimator, y, head", [
    (EAClassifier, np.repeat(np.arange(4), 2), "logistic"),
    (EARegressor, np.array([1.0, 2.0]), "ridge"),
])
def test_finetune_without_a_validation_split_fails_before_pre_training(monkeypatch, estimator, y,
                                                                       head):
    from tsea import training

    monkeypatch.setattr(training, "pretrain", lambda *a, **k: pytest.fail("pre-training started"))
    X = np.random.default_rng(0).normal(size=(len(y), 1, 16))
    with pytest.raises(ValueError, match=f"head='finetune' holds out 20% of the training series "
                                         f"to early-stop on, and none can be held out here: .*; "
                                         f"use head='{head}'"):
        estimator(**{**TINY, "head": "finetune"}).fit(X, y)


class _Boom:
    """A Lightning callback that fails the pre-training at its first step."""

    def __new__(cls):
        import lightning as L

        class Boom(L.Callback):
            def on_train_batch_start(self, *args):
                raise RuntimeError("boom")

        return Boom()


def _assert_untouched(est, before: dict):
    assert est.__dict__.keys() == before.keys()
    changed = [k for k in before if est.__dict__[k] is not before[k]]
    assert changed == []


def test_a_failed_refit_leaves_the_fitted_model_as_it_was(tmp_path):
    """A refit that raised used to keep what it had set before failing: a classifier's new
    classes_ over its old head (predictions under the new names, a file that did not load),
    new normalisation statistics under the old encoder, and the parameters recorded at its
    start, so that a set_params before it no longer counted as a change."""
    X, y = _two_classes(4)
    clf = EAClassifier(**TINY).fit(X, y)
    proba = clf.predict_proba(X)
    other = np.where(y == 0, "cat", "dog")
    failures = [
        ({"class_weight": {"zebra": 2.0}}, X, "not classes of y"),  # after classes_ is set
        ({"trainer_kwargs": {"callbacks": [_Boom()]}}, [10 * x for x in X], "boom"),  # pre-training
        ({"head": "svm", "depth": 2}, [x[:, :0] for x in X], "zero length"),  # reading X
    ]
    for params, X_new, message in failures:
        before = dict(clf.set_params(**params).__dict__)
        with pytest.raises((ValueError, RuntimeError), match=message):
            clf.fit(X_new, other)
        _assert_untouched(clf, before)
        if "trainer_kwargs" not in params:  # changed, and still refused as a change
            with pytest.raises(ValueError, match="at fit and is .* now"):
                clf.predict(X)
        clf.set_params(**{k: EAClassifier(**TINY).get_params()[k] for k in params})
        np.testing.assert_array_equal(clf.predict_proba(X), proba)
    clf.save(tmp_path / "clf.tsea")
    np.testing.assert_array_equal(EAClassifier.load(tmp_path / "clf.tsea").predict_proba(X), proba)

    reg = EARegressor(**{**TINY, "head": "finetune"}).fit(X, np.linspace(1, 2, len(X)))
    predictions, before = reg.predict(X), dict(reg.__dict__)
    with pytest.raises(ValueError, match="none can be held out"):  # after y_mean_ is set
        reg.fit(X[:2], [1000.0, 5000.0])
    _assert_untouched(reg, before)
    np.testing.assert_array_equal(reg.predict(X), predictions)

    enc = EAEncoder(**TINY).fit(X)
    Z = enc.transform(X)
    before = dict(enc.set_params(trainer_kwargs={"callbacks": [_Boom()]}).__dict__)
    with pytest.raises(RuntimeError, match="boom"):  # after the normalisation is fitted
        enc.fit([10 * x for x in X])
    _assert_untouched(enc, before)
    np.testing.assert_array_equal(enc.set_params(trainer_kwargs=None).transform(X), Z)
