import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from tsea.heads import SVM_C_GRID, SVM_MAX_ITER, linear_weights, make_head, scores_to_proba


def _blobs(n_per_class, n_classes=3, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.eye(dim)[:n_classes]  # one axis per class: linearly separable
    Z = np.concatenate([rng.normal(loc=centres[k], size=(n_per_class, dim)) for k in range(n_classes)])
    y = np.repeat(np.arange(n_classes), n_per_class)
    return Z, y


def test_svm_uses_grid_search_only_with_enough_data():
    Z, y = _blobs(20)  # 60 series, 20 per class
    head = make_head("classification", "svm", len(y), y)
    assert isinstance(head, GridSearchCV)
    assert head.param_grid["C"] == SVM_C_GRID
    assert SVM_C_GRID[0] == 1e-4 and SVM_C_GRID[-2] == 1e4 and np.isinf(SVM_C_GRID[-1])
    assert head.fit(Z, y).score(Z, y) > 0.9

    Z, y = _blobs(4)  # 12 series: too few -> hard margin
    head = make_head("classification", "svm", len(y), y)
    assert not isinstance(head, GridSearchCV) and np.isinf(head.C)
    assert head.fit(Z, y).score(Z, y) == 1.0


def test_hard_margin_svm_terminates_on_inseparable_data():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    Z = np.repeat(rng.normal(size=(20, 3)), 2, axis=0)  # every point twice ...
    y = np.tile([0, 1], 20)  # ... with both labels: no hard margin exists
    head = make_head("classification", "svm", len(y), y)
    assert head.max_iter == SVM_MAX_ITER
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        head.fit(Z, y)  # without the iteration cap libsvm would run forever
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def test_svm_small_class_disables_grid_search():
    Z, y = _blobs(30, n_classes=2)
    y = y.copy()
    y[:4] = 2  # a third class with only 4 series although n >= 50
    head = make_head("classification", "svm", len(y), y)
    assert not isinstance(head, GridSearchCV)


@pytest.mark.parametrize("name", ["ridge", "logistic"])
def test_linear_classifier_heads(name):
    Z, y = _blobs(10)
    head = clone(make_head("classification", name, len(y), y))
    assert head.fit(Z, y).score(Z, y) > 0.9


@pytest.mark.parametrize("name", ["ridge", "svr"])
def test_regression_heads(name):
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(60, 3))
    y = 100.0 + 50.0 * Z[:, 0] - 20.0 * Z[:, 1]
    head = make_head("regression", name, len(y), y)
    assert head.fit(Z, y).score(Z, y) > 0.9


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="unknown classification head 'svr'"):
        make_head("classification", "svr", 10, np.arange(10) % 2)
    with pytest.raises(ValueError, match="task must be"):
        make_head("clustering", "svm", 10, None)
    with pytest.raises(ValueError, match="finetune"):
        make_head("regression", "finetune", 10, None)


def test_scores_to_proba():
    p = scores_to_proba(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]), 3)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert p[0].argmax() == 1 and np.allclose(p[1], 1 / 3)
    binary = scores_to_proba(np.array([-2.0, 3.0]), 2)
    assert binary.shape == (2, 2) and binary[0, 0] > 0.5 and binary[1, 1] > 0.5
    assert np.isclose(binary[1, 1], 1 / (1 + np.exp(-3.0)))
    with pytest.raises(ValueError, match="do not match"):
        scores_to_proba(np.zeros((2, 3)), 2)


# -- FallbackSVC: a non-finite libsvm solution falls back to a smaller C ----------------------
def _fail_above(monkeypatch, threshold):
    """Make libsvm 'return' non-finite coefficients for every C above ``threshold``, as it
    does on some real embeddings with a hard margin (scikit-learn raises this ValueError)."""
    from sklearn.svm._base import BaseLibSVM

    original = BaseLibSVM.fit
    tried = []

    def fit(self, X, y, sample_weight=None):
        tried.append(self.C)
        if self.C > threshold:
            raise ValueError(
                "The dual coefficients or intercepts are not finite. The input data may contain "
                "large values and need to be preprocessed."
            )
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr(BaseLibSVM, "fit", fit)
    return tried


def test_fallback_svc_refits_with_the_next_smaller_c(monkeypatch):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC

    from tsea.heads import FallbackSVC

    Z, y = _blobs(4)  # 12 series: the hard-margin (C=inf) head
    head = make_head("classification", "svm", len(y), y)
    assert isinstance(head, FallbackSVC) and np.isinf(head.C)
    tried = _fail_above(monkeypatch, 10.0)
    with pytest.warns(ConvergenceWarning, match=r"C=inf .*refitted with C=10\b"):
        head.fit(Z, y)
    assert tried == [np.inf, 1e4, 1e3, 1e2, 10.0]  # the grid below inf, largest first
    assert head.fitted_C_ == 10.0 and np.isinf(head.C)  # the parameter is left as given
    assert np.isinf(clone(head).C)
    reference = SVC(kernel="rbf", gamma="scale", C=10.0).fit(Z, y)
    np.testing.assert_allclose(head.decision_function(Z), reference.decision_function(Z))


def test_fallback_svc_without_failure_keeps_c(monkeypatch):
    import warnings

    from tsea.heads import FallbackSVC

    Z, y = _blobs(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback warning
        head = FallbackSVC(C=np.inf, gamma="scale").fit(Z, y)
    assert np.isinf(head.fitted_C_)


def test_fallback_svc_gives_up_with_a_clear_error(monkeypatch):
    from tsea.heads import FallbackSVC

    Z, y = _blobs(4)
    _fail_above(monkeypatch, 0.0)  # every C fails
    with pytest.raises(ValueError, match="not finite for C=inf and for every smaller C") as info:
        FallbackSVC(C=np.inf).fit(Z, y)
    assert "dual coefficients" in str(info.value.__cause__)


def test_fallback_svc_raises_other_errors_unchanged():
    from tsea.heads import FallbackSVC

    Z, y = _blobs(4)
    Z[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        FallbackSVC(C=np.inf).fit(Z, y)


def test_grid_search_head_survives_a_failing_hard_margin(monkeypatch):
    Z, y = _blobs(20)  # 60 series: grid search over C
    _fail_above(monkeypatch, 1e3)  # inf and 1e4 fail in every fold and in the refit
    head = make_head("classification", "svm", len(y), y)
    with pytest.warns(Warning):
        head.fit(Z, y)
    assert head.best_estimator_.fitted_C_ <= 1e3
    assert head.score(Z, y) > 0.9


# -- collapsed embeddings are reported -----------------------------------------------------------
def test_check_embedding_spread_flags_collapsed_embeddings():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from tsea.heads import COLLAPSE_RATIO, check_embedding_spread

    rng = np.random.default_rng(0)
    offsets = rng.normal(size=64)  # per-feature offsets, as pooled representations have
    collapsed = offsets + 1e-5 * rng.normal(size=(30, 64))  # every series ~ the same vector
    with pytest.warns(ConvergenceWarning, match="30 training series are nearly identical"):
        ratio = check_embedding_spread(collapsed)
    assert ratio <= COLLAPSE_RATIO

    healthy = offsets + 0.05 * rng.normal(size=(30, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_embedding_spread(healthy) > COLLAPSE_RATIO
        assert np.isnan(check_embedding_spread(np.ones((1, 4))))  # one series: no spread to judge
    with pytest.warns(ConvergenceWarning):  # all zero: no spread at all
        assert check_embedding_spread(np.zeros((5, 3))) == 0.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_linear_weights_reproduce_the_logistic_head(n_classes):
    rng = np.random.default_rng(0)
    Z = rng.normal(loc=5.0, scale=[1.0, 10.0, 0.1, 3.0], size=(90, 4))
    y = np.arange(90) % n_classes
    Z[:, 0] += y  # classes differ along one feature
    head = make_head("classification", "logistic", len(y), y).fit(Z, y)
    W, b = linear_weights(head, n_classes)
    assert W.shape == (n_classes, 4) and b.shape == (n_classes,)
    scores = Z @ W.T + b
    proba = np.exp(scores - scores.max(axis=1, keepdims=True))
    assert np.allclose(proba / proba.sum(axis=1, keepdims=True), head.predict_proba(Z), atol=1e-10)


def test_linear_weights_reproduce_the_ridge_head_and_refuse_other_heads():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(60, 3)) * [1.0, 5.0, 0.2]
    y = 2.0 * Z[:, 0] - Z[:, 2]
    head = make_head("regression", "ridge", len(y), y).fit(Z, y)
    W, b = linear_weights(head, 1)
    assert np.allclose((Z @ W.T + b)[:, 0], head.predict(Z), atol=1e-10)
    with pytest.raises(ValueError, match="gives 1 scores per series, not 2"):
        linear_weights(head, 2)
    svr = make_head("regression", "svr", len(y), y).fit(Z, y)
    with pytest.raises(ValueError, match="StandardScaler \\+ linear model"):
        linear_weights(svr, 1)


@pytest.mark.parametrize("name", ["logistic", "ridge", "svm"])
def test_balanced_class_weight_finds_more_of_a_rare_class(name):
    """A class of 1 in 10 whose cloud overlaps the other: weighted to balance, the head calls
    more of it (recall of the rare class rises), as scikit-learn's class_weight does."""
    rng = np.random.default_rng(0)
    Z = np.vstack([rng.normal(0.0, 1.0, size=(180, 4)), rng.normal(0.8, 1.0, size=(20, 4))])
    y = np.r_[np.zeros(180, int), np.ones(20, int)]
    plain = make_head("classification", name, len(y), y).fit(Z, y)
    balanced = make_head("classification", name, len(y), y, class_weight="balanced").fit(Z, y)
    assert balanced.predict(Z)[y == 1].mean() > plain.predict(Z)[y == 1].mean()


def test_class_weight_is_for_classification_heads_only():
    with pytest.raises(ValueError, match="classification heads only"):
        make_head("regression", "ridge", 10, class_weight="balanced")


@pytest.mark.parametrize("n_per_class", [4, 12])  # C=inf alone, and the grid search of C
def test_svm_predicts_the_class_of_the_largest_decision_score(n_per_class):
    # one-vs-one votes tie often among 9 overlapping classes; the tie goes to the class whose
    # decision score (and so probability) is largest, not to the first class
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(9), n_per_class)
    Z = rng.normal(size=(len(y), 3)) + 0.5 * y[:, None]
    head = make_head("classification", "svm", len(y), y).fit(Z, y)
    test = rng.normal(size=(2000, 3)) * 3 + 2
    np.testing.assert_array_equal(head.predict(test), head.decision_function(test).argmax(1))


def test_ridge_regression_keeps_the_digits_of_targets_far_from_zero():
    # float32 embeddings: RidgeCV casts the targets to its input's dtype, and near 1e6 float32
    # has steps of 1/16, wider than these targets' spread
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(60, 8)).astype(np.float32)
    y = Z[:, :2].astype(np.float64) @ [0.01, -0.02] + 0.05
    near = make_head("regression", "ridge", len(y)).fit(Z, y).predict(Z)
    far = make_head("regression", "ridge", len(y)).fit(Z, y + 1e6).predict(Z) - 1e6
    assert np.std(near) > 0.01
    np.testing.assert_allclose(far, near, atol=1e-6)
    W, b = linear_weights(make_head("regression", "ridge", len(y)).fit(Z, y), 1)
    np.testing.assert_allclose(Z @ W.T + b, near[:, None], atol=1e-6)  # fine-tuning's start


@pytest.mark.parametrize("task, name", [("classification", "logistic"), ("classification", "ridge"),
                                        ("classification", "svm"), ("regression", "ridge"),
                                        ("regression", "svr")])
@pytest.mark.parametrize("fit_output, predict_output", [("pandas", "default"), ("default", "pandas")])
def test_heads_ignore_the_global_transform_output(task, name, fit_output, predict_output):
    # a user's sklearn.set_config(transform_output="pandas") made the scaler name the
    # embedding columns, and every later predict under the other setting warned about it
    import warnings

    import sklearn

    Z, y = _blobs(30, n_classes=2)
    if task == "regression":
        y = Z[:, 0] + 0.1 * y
    with sklearn.config_context(transform_output=fit_output):
        head = make_head(task, name, len(Z), y).fit(Z, y)
    with sklearn.config_context(transform_output=predict_output), warnings.catch_warnings():
        warnings.simplefilter("error")
        predictions = head.predict(Z)
    assert isinstance(predictions, np.ndarray) and predictions.shape == (len(Z),)
