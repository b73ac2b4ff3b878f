"""EAClassifier(class_weight={label: weight}): the weights reach the head by class, a model
file keeps the labels' types, and a bad dict fails before pre-training."""

import json
import os
import zipfile

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

import tsea
from tsea import params as params_mod
from tsea import training
from tsea.cli import main
from tsea.config import load_config
from tsea.estimators.labels import class_weight_by_index

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 1, 20)).astype(np.float32)
Y_TEXT = np.array(["rare"] * 4 + ["mid"] * 8 + ["common"] * 18)


def _clf(**kw):
    return tsea.EAClassifier(**{**load_config("tiny"), "n_iters": 2, "verbose": False,
                                "random_state": 0, **kw})


def test_a_dict_of_the_balanced_weights_fits_the_balanced_head():
    """Weights given by label must reach the class they name: the same weights as
    "balanced" computes give the same head, whatever order the dict lists them in."""
    classes = np.unique(Y_TEXT)
    weights = compute_class_weight("balanced", classes=classes, y=Y_TEXT)
    given = {str(c): float(w) for c, w in zip(classes[::-1], weights[::-1])}
    by_dict = _clf(class_weight=given).fit(X, Y_TEXT)
    balanced = _clf(class_weight="balanced").fit(X, Y_TEXT)
    np.testing.assert_allclose(by_dict.head_[-1].coef_, balanced.head_[-1].coef_, rtol=1e-6)
    plain = _clf().fit(X, Y_TEXT)
    assert not np.allclose(plain.head_[-1].coef_, balanced.head_[-1].coef_, rtol=1e-3)


@pytest.mark.parametrize("name", ["logistic", "svm", "ridge"])
def test_a_heavy_class_is_predicted_more(name):
    # 60 series: below 50 the svm head is a hard margin (C = inf), which weights cannot move
    Xb = np.random.default_rng(1).normal(size=(60, 1, 20)).astype(np.float32)
    y = np.array([0, 1] * 30)
    light = _clf(head=name, class_weight={1: 1e-3}).fit(Xb, y)
    heavy = _clf(head=name, class_weight={1: 1e3}).fit(Xb, y)
    head = heavy.head_.estimator if name == "svm" else heavy.head_[-1]
    assert head.class_weight == {1: 1e3}
    assert (heavy.predict(Xb) == 1).sum() > (light.predict(Xb) == 1).sum()


def test_integer_labels_keep_their_type_through_the_model_file(tmp_path):
    y = np.array([3] * 10 + [7] * 20)
    clf = _clf(class_weight={np.int64(7): 2.5}).fit(X, y)
    assert clf.head_[-1].class_weight == {1: 2.5}  # 7 is the second class
    clf.save(tmp_path / "m.tsea")
    with zipfile.ZipFile(tmp_path / "m.tsea") as zf:
        stored = json.loads(zf.read("tsea.json"))["params"]["class_weight"]
    assert stored == [[7, 2.5]]
    again = tsea.load_model(tmp_path / "m.tsea")
    assert again.class_weight == {7: 2.5} and isinstance(next(iter(again.class_weight)), int)
    assert again.head_[-1].class_weight == {1: 2.5}
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert tsea.EAEncoder.load(tmp_path / "m.tsea").get_params().get("class_weight") is None
    assert main(["info", str(tmp_path / "m.tsea")]) == 0


def test_mixed_labels_round_trip(tmp_path):
    y = np.array([1] * 10 + ["b"] * 20, dtype=object)
    clf = _clf(class_weight={"b": 0.5, 1: 3.0}).fit(X, y)
    assert clf.head_[-1].class_weight == {0: 3.0, 1: 0.5}
    clf.save(tmp_path / "m.tsea")
    assert tsea.load_model(tmp_path / "m.tsea").class_weight == {"b": 0.5, 1: 3.0}


@pytest.mark.parametrize("weights, message", [
    ({"Rare": 2.0}, r"not classes of y: \[\"'Rare'\"\]; the classes are \['common', 'mid', 'rare'\]"),
    ({"rare": -1.0}, r"class_weight\['rare'\] must be finite and >= 0"),
    ({"rare": float("inf")}, r"must be finite"),
    ({"rare": "2"}, r"class_weight\['rare'\] must be a number"),
    ({"rare": True}, r"must be a number"),
    ({"rare": 0, "mid": 0, "common": 0.0}, r"every class the weight 0"),
])
def test_a_bad_dict_fails_before_pre_training(monkeypatch, weights, message):
    def no_pretraining(*args, **kwargs):
        raise AssertionError("pre-training started before class_weight was checked")

    monkeypatch.setattr(training, "pretrain", no_pretraining)
    with pytest.raises(ValueError, match=message):
        _clf(class_weight=weights).fit(X, Y_TEXT)


def test_labels_match_as_scikit_learn_compares_them_but_text_and_bools_stay_apart():
    numbers = np.array([0, 1])
    assert class_weight_by_index({1.0: 2.0}, numbers) == {1: 2.0}
    for key in ("1", True):
        with pytest.raises(ValueError, match="not classes of y"):
            class_weight_by_index({key: 2.0}, numbers)
    assert class_weight_by_index({True: 2.0}, np.array([False, True])) == {1: 2.0}
    assert class_weight_by_index({}, numbers) == {}
    assert class_weight_by_index("balanced", numbers) == "balanced"


@pytest.mark.parametrize("y", [[1, True, "a", 1], [np.True_, 1.0, 2], [0, False, 3]],
                         ids=["int", "numpy-bool", "zero"])
def test_a_bool_and_the_number_it_equals_are_not_merged_into_one_class(y):
    # they became one class (True == 1 to Python), though class_weight keeps them apart
    from tsea.estimators.labels import encode_labels

    flag = bool(y[1] if isinstance(y[1], bool | np.bool_) else y[0])
    with pytest.raises(ValueError, match=f"y holds both {flag} and the number {int(flag)}, which "
                                         "Python counts as one label"):
        encode_labels(np.array(y, dtype=object), len(y))
    classes, _ = encode_labels(np.array([True, False, 2], dtype=object), 3)  # no clash
    assert classes.tolist() == [False, True, 2]


def test_the_file_form_of_class_weight():
    assert params_mod.to_file({"class_weight": {0: 2, "a": 1.5}}) == {
        "class_weight": [[0, 2.0], ["a", 1.5]]}
    assert params_mod.from_file({"class_weight": [[0, 2.0], ["a", 1.5]]}) == {
        "class_weight": {0: 2.0, "a": 1.5}}
    assert params_mod.to_file({"class_weight": "balanced"}) == {"class_weight": "balanced"}
    with pytest.raises(ValueError, match="not a list of \\[label, weight\\] pairs"):
        params_mod.from_file({"class_weight": [[0, 1.0, 2.0]]})
    with pytest.raises(ValueError, match="pairs"):
        params_mod.from_file({"class_weight": [[[0], 1.0]]})


ITALY_TRAIN = "examples/data/ItalyPowerDemand_TRAIN_wide.csv"
FAST = ["--config", "tiny", "--set", "n_iters=2", "--quiet"]


def test_cli_class_weight_pairs_are_matched_to_the_labels_by_text(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "m.tsea"
    assert main(["fit", "--data", ITALY_TRAIN, "--class-weight", "2=3.5", "-o", str(out), *FAST]) == 0
    clf = tsea.load_model(out)
    assert clf.class_weight == {"2": 3.5} and clf.head_[-1].class_weight == {1: 3.5}
    assert main(["fit", "--data", ITALY_TRAIN, "--class-weight", "1=1,3=2", "-o", str(out),
                 *FAST]) == 2
    assert "'3' is not a label of the training series; the labels are 1, 2" in capsys.readouterr().err
    for bad in ("2", "=2", "2=x", "2=1,2=3"):
        with pytest.raises(SystemExit):
            main(["fit", "--data", ITALY_TRAIN, "--class-weight", bad, "-o", str(out), *FAST])
        assert "--class-weight" in capsys.readouterr().err


def test_cli_class_weight_refuses_a_text_that_two_labels_print_as():
    from tsea.cli.commands import UsageError, _labels_by_text

    assert _labels_by_text({"1": 2.0}, [1, 2, 1]) == {1: 2.0}
    with pytest.raises(UsageError, match="more than one training label prints as '1'"):
        _labels_by_text({"1": 2.0}, np.array([1, "1", 2], dtype=object))
