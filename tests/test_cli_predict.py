"""`tsea fit --head/--task` (a classifier's or regressor's model file), `tsea predict` (its
predictions, streamed) and `tsea.load_model` (whichever estimator a file holds)."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import tsea
from tsea.cli import main
from tsea.cli.io import load_data
from tsea.data import stream as stream_mod
from tsea.nn import inference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(REPO, "examples", "data")
ITALY_TRAIN = os.path.join(DATASETS, "ItalyPowerDemand_TRAIN_wide.csv")
ITALY_TEST = os.path.join(DATASETS, "ItalyPowerDemand_TEST_wide.csv")
COVID_TRAIN = os.path.join(DATASETS, "Covid3Month_TRAIN_wide.csv")
COVID_TEST = os.path.join(DATASETS, "Covid3Month_TEST_wide.csv")
FAST = ["--config", "tiny", "--set", "n_iters=2", "--quiet"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A classifier, a regressor and an encoder written by `tsea fit`."""
    root = tmp_path_factory.mktemp("models")
    paths = {kind: str(root / f"{kind}.tsea") for kind in ("clf", "reg", "enc")}
    assert main(["fit", "--data", ITALY_TRAIN, "--head", "logistic", "-o", paths["clf"], *FAST]) == 0
    assert main(["fit", "--data", COVID_TRAIN, "--task", "regression", "-o", paths["reg"], *FAST]) == 0
    assert main(["fit", "--data", ITALY_TRAIN, "-o", paths["enc"], *FAST]) == 0
    return paths


@pytest.fixture
def small_chunks(monkeypatch):
    """Blocks of 7 series: the 100 test series of the example file in 15 chunks."""
    monkeypatch.setattr(inference, "EMBED_BLOCK", 7)
    monkeypatch.setattr(stream_mod, "LONG_ROWS", 13)


def test_fit_with_head_or_task_writes_the_supervised_kind(models):
    from tsea import modelfile

    assert modelfile.read_kind(models["clf"]) == "EAClassifier"
    assert modelfile.read_kind(models["reg"]) == "EARegressor"
    assert modelfile.read_kind(models["enc"]) == "EAEncoder"  # no --head, no --task: as before
    clf = tsea.load_model(models["clf"])
    assert isinstance(clf, tsea.EAClassifier) and clf.head == "logistic"
    assert sorted(clf.classes_.tolist()) == ["1", "2"]  # CSV labels are text
    assert isinstance(tsea.load_model(models["reg"]), tsea.EARegressor)
    assert isinstance(tsea.load_model(models["enc"]), tsea.EAEncoder)


def test_fit_head_is_the_one_asked_for_and_trained_on_the_labels(tmp_path):
    out = str(tmp_path / "svm.tsea")
    assert main(["fit", "--data", ITALY_TRAIN, "--head", "svm", "-o", out, *FAST]) == 0
    clf = tsea.load_model(out)
    assert clf.head == "svm"
    train = load_data(ITALY_TRAIN)
    assert np.mean(clf.predict(train.X) == train.y) > 0.6  # it learnt from the labels


def test_fit_task_auto_given_fits_the_inferred_task(tmp_path):
    out = str(tmp_path / "m.tsea")
    assert main(["fit", "--data", ITALY_TRAIN, "--task", "auto", "-o", out, *FAST]) == 0
    assert isinstance(tsea.load_model(out), tsea.EAClassifier)
    assert main(["fit", "--data", COVID_TRAIN, "--task", "auto", "-o", out, *FAST]) == 0
    assert isinstance(tsea.load_model(out), tsea.EARegressor)


def test_fit_refuses_a_head_of_the_other_task(tmp_path, capsys):
    out = tmp_path / "m.tsea"
    code = main(["fit", "--data", ITALY_TRAIN, "--head", "svr", "-o", str(out), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "head 'svr' is not available for classification" in err
    assert not out.exists()


def test_fit_with_head_needs_labels(tmp_path, capsys):
    unlabelled = tmp_path / "x.csv"
    pd.read_csv(ITALY_TRAIN).drop(columns="label").to_csv(unlabelled, index=False)
    code = main(["fit", "--data", str(unlabelled), "--head", "logistic",
                 "-o", str(tmp_path / "m.tsea"), *FAST])
    assert code == 1 and "has no labels" in capsys.readouterr().err
    # without --head the same file pre-trains an encoder
    assert main(["fit", "--data", str(unlabelled), "-o", str(tmp_path / "m.tsea"), *FAST]) == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_file_equals_the_estimator_on_the_whole_file(models, tmp_path, small_chunks, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"p{suffix}"
    assert main(["predict", "--model", models["clf"], ITALY_TEST, "-o", str(out), "--proba",
                 "--quiet"]) == 0
    table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    clf = tsea.load_model(models["clf"])
    test = load_data(ITALY_TEST)
    assert list(table.columns) == ["id", "prediction", "proba_1", "proba_2"]
    assert table["id"].tolist() == test.ids.tolist()  # every series, in input order
    np.testing.assert_array_equal(table["prediction"].astype(str), clf.predict(test.X))
    np.testing.assert_allclose(table[["proba_1", "proba_2"]].to_numpy(), clf.predict_proba(test.X),
                               rtol=1e-6)
    if suffix == ".parquet":  # typed: the labels keep the model's type (text, from a CSV)
        assert all(isinstance(v, str) for v in table["prediction"])


def test_predict_regressor_writes_float_targets(models, tmp_path, small_chunks):
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", models["reg"], COVID_TEST, "-o", str(out), "-q"]) == 0
    table = pd.read_csv(out)
    test = load_data(COVID_TEST, task="regression")
    assert list(table.columns) == ["id", "prediction"] and len(table) == test.n_series
    np.testing.assert_allclose(table["prediction"].to_numpy(),
                               tsea.load_model(models["reg"]).predict(test.X), rtol=1e-6)


def test_predict_named_dataset_split(models, tmp_path):
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", models["clf"], "ItalyPowerDemand", "--split", "test",
                 "-o", str(out), "-q"]) == 0
    X, _ = tsea.datasets.load("ItalyPowerDemand", split="test")
    table = pd.read_csv(out)
    assert table["id"].tolist() == list(range(len(X)))
    np.testing.assert_array_equal(table["prediction"].astype(str),
                                  tsea.load_model(models["clf"]).predict(X))


def test_predict_with_an_encoder_says_how_to_get_a_predictor(models, tmp_path, capsys):
    out = tmp_path / "p.csv"
    code = main(["predict", "--model", models["enc"], ITALY_TEST, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "pre-trained without labels" in err and "tsea fit --head" in err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["-o", "p.npy"], "unsupported format; use one of .csv, .parquet"),
    (["-o", "p.csv", "--proba"], "holds a regressor, which has no class probabilities"),
])
def test_predict_usage_errors_exit_2_before_reading(models, tmp_path, capsys, args, message,
                                                    monkeypatch):
    from tsea.cli import embed_io

    monkeypatch.setattr(embed_io, "stream_file", lambda *a, **k: pytest.fail("input was read"))
    monkeypatch.chdir(tmp_path)
    code = main(["predict", "--model", models["reg"], COVID_TEST, *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err
    assert os.listdir(tmp_path) == []


def test_predict_refuses_to_overwrite_its_input(models, tmp_path, capsys):
    data = tmp_path / "x.csv"
    pd.read_csv(ITALY_TEST).to_csv(data, index=False)
    before = data.read_bytes()
    assert main(["predict", "--model", models["clf"], str(data), "-o", str(data)]) == 2
    assert "same file" in capsys.readouterr().err and data.read_bytes() == before


def test_predict_bad_series_is_named_by_file_position(models, tmp_path, small_chunks, capsys):
    data = tmp_path / "x.csv"
    frame = pd.read_csv(ITALY_TEST)
    frame.iloc[40, 2:] = np.nan  # an all-missing series in the sixth chunk
    frame.to_csv(data, index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", models["clf"], str(data), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "series 40" in err and "all-NaN" in err
    assert not out.exists()  # nothing half-written


def test_load_model_refuses_an_unknown_kind(tmp_path):
    from tsea import modelfile

    path = tmp_path / "m.tsea"
    modelfile.write_model(path, "SomethingElse", {}, {}, {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="kind 'SomethingElse', which this tsea does not know"):
        tsea.load_model(path)


def test_read_kind_checks_the_header(tmp_path):
    from tsea import modelfile

    bad = tmp_path / "bad.tsea"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a valid tsea model file"):
        modelfile.read_kind(bad)
    with pytest.raises(FileNotFoundError):
        modelfile.read_kind(tmp_path / "missing.tsea")


@pytest.mark.parametrize("labels, kind", [([3, 7], int), (["a", 7], str)])
def test_predict_parquet_keeps_integer_labels_and_writes_mixed_ones_as_text(tmp_path, labels, kind):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 1, 20))
    y = np.array(labels * 6, dtype=object)
    model = tmp_path / "m.tsea"
    tsea.EAClassifier(**dict(tsea.config.load_config("tiny")), verbose=False).fit(X, y).save(model)
    data = tmp_path / "x.csv"
    pd.DataFrame(X[:, 0], columns=[f"t{j}" for j in range(20)]).to_csv(data, index=False)
    out = tmp_path / "p.parquet"
    assert main(["predict", "--model", str(model), str(data), "-o", str(out), "-q"]) == 0
    values = pd.read_parquet(out)["prediction"].tolist()
    assert len(values) == 12 and all(isinstance(v, kind) for v in values)
    assert {str(v) for v in values} <= {str(v) for v in labels}


def test_predict_refuses_classes_that_print_alike(tmp_path, capsys):
    """1 and '1' would share a prediction's text and a proba_ column (a row of two columns
    that do not sum to 1)."""
    X = np.random.default_rng(0).normal(size=(12, 1, 20))
    y = np.array([1, "1", 2.5] * 4, dtype=object)
    model = tmp_path / "m.tsea"
    tsea.EAClassifier(**dict(tsea.config.load_config("tiny")), verbose=False).fit(X, y).save(model)
    data = tmp_path / "x.csv"
    pd.DataFrame(X[:, 0], columns=[f"t{j}" for j in range(20)]).to_csv(data, index=False)
    for extra in ([], ["--proba"]):
        out = tmp_path / "p.csv"
        assert main(["predict", "--model", str(model), str(data), "-o", str(out), "-q", *extra]) == 1
        assert "the classes 1 and '1' are both written as '1'" in capsys.readouterr().err
        assert not out.exists()


def test_evaluate_saves_the_model_and_the_test_predictions(tmp_path, capsys):
    model, table = tmp_path / "clf.tsea", tmp_path / "p.csv"
    assert main(["evaluate", "--data", ITALY_TRAIN, "--test", ITALY_TEST, "--out", str(model),
                 "--predictions", str(table), *FAST]) == 0
    accuracy = float(capsys.readouterr().out.split("accuracy: ")[1])
    frame = pd.read_csv(table, dtype=str)
    test = load_data(ITALY_TEST)
    assert list(frame.columns) == ["id", "label", "prediction"]
    assert frame["id"].tolist() == test.ids.tolist() and frame["label"].tolist() == test.y.tolist()
    assert np.mean(frame["label"] == frame["prediction"]) == pytest.approx(accuracy, abs=5e-5)
    # the saved model is the one that made them
    np.testing.assert_array_equal(tsea.load_model(model).predict(test.X), frame["prediction"])


def test_evaluate_regression_predictions_are_numbers(tmp_path):
    table = tmp_path / "p.csv"
    assert main(["evaluate", "--data", COVID_TRAIN, "--test", COVID_TEST, "--predictions",
                 str(table), *FAST]) == 0
    frame = pd.read_csv(table)
    assert frame["prediction"].dtype == np.float64 and frame["label"].dtype == np.float64


@pytest.mark.parametrize("args, message", [
    (["--predictions", "p.npy"], "--predictions p.npy: unsupported format; use one of .csv"),
    (["--predictions", "."], "--predictions . is a directory"),
    (["--out", "."], "--out . is a directory"),
    (["--out", "a.csv", "--predictions", "a.csv"], "--out a.csv and --predictions a.csv name the same file"),
    (["--predictions", ITALY_TEST], "is the same file as --test"),
])
def test_evaluate_output_errors_exit_2_before_the_fit(tmp_path, capsys, monkeypatch, args, message):
    from tsea.cli import commands

    monkeypatch.setattr(commands, "estimators", lambda args: pytest.fail("the fit started"))
    monkeypatch.chdir(tmp_path)
    code = main(["evaluate", "--data", ITALY_TRAIN, "--test", ITALY_TEST, *args, *FAST])
    assert code == 2 and message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_predict_shards_give_one_table_per_shard(models, tmp_path, capsys):
    shards = tmp_path / "shards"
    shards.mkdir()
    frame = pd.read_csv(ITALY_TEST)
    frame.iloc[:60].to_csv(shards / "a.csv", index=False)
    frame.iloc[60:].to_csv(shards / "b.csv", index=False)
    out = tmp_path / "out"
    assert main(["predict", "--model", models["clf"], str(shards), "-o", str(out),
                 "--format", "csv", "--proba"]) == 0
    assert "predicted 100 series of 2 shards" in capsys.readouterr().err
    assert sorted(os.listdir(out)) == ["a.csv", "b.csv"]
    whole = tmp_path / "whole.csv"
    assert main(["predict", "--model", models["clf"], ITALY_TEST, "-o", str(whole), "-q",
                 "--proba"]) == 0
    parts = pd.concat([pd.read_csv(out / "a.csv"), pd.read_csv(out / "b.csv")], ignore_index=True)
    pd.testing.assert_frame_equal(parts, pd.read_csv(whole))


def test_predict_shards_into_a_file_is_refused(models, tmp_path, capsys):
    (tmp_path / "a.csv").write_text(open(ITALY_TEST).read())
    target = tmp_path / "x.csv"
    target.write_text("keep")
    assert main(["predict", "--model", models["clf"], str(tmp_path / "*.csv"), "-o",
                 str(target)]) == 2
    assert "must be a folder" in capsys.readouterr().err and target.read_text() == "keep"


def test_info_says_what_a_classifier_file_holds(models, capsys):
    assert main(["info", models["clf"]]) == 0
    out = capsys.readouterr().out
    assert f"{models['clf']}: EAClassifier, written by tsea {tsea.__version__}" in out
    assert "input: 1 channel; trained on series of up to 24 steps; seed 0" in out
    assert "head: logistic, fitted on 67 training series" in out
    assert "classes (2): '1', '2'" in out
    # the tiny preset's keys differ from the defaults; the defaults it keeps are not listed
    assert "  repr_dim: 16" in out and "  n_iters: 2" in out and "attention:" not in out


def test_info_json_holds_every_parameter_and_matches_the_loaded_model(models, capsys):
    import json

    assert main(["info", models["reg"], "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    reg = tsea.load_model(models["reg"])
    assert summary["kind"] == "EARegressor" and summary["head"] == "ridge"
    assert summary["params"] == reg.get_params()
    assert summary["n_weights"] == sum(p.numel() for p in reg.encoder_.parameters())
    assert summary["n_channels"] == reg.n_channels_ and "classes" not in summary


@pytest.mark.parametrize("edit, reason", [
    (lambda p, m: (p, {k: v for k, v in m.items() if k != "classes"}), "classes"),
    (lambda p, m: ({**p, "depth": -3}, m), "depth"),
    (lambda p, m: ({**p, "attention": "bogus"}, m), "bogus"),
])
def test_info_says_when_this_tsea_does_not_load_the_file(models, tmp_path, capsys, edit, reason):
    from tsea import modelfile

    params, meta, arrays = modelfile.read_model(models["clf"])
    params, meta = edit(params, meta)
    edited = tmp_path / "edited.tsea"
    modelfile.write_model(edited, "EAClassifier", params, meta, arrays)
    with pytest.raises(ValueError) as loading:
        tsea.load_model(str(edited))
    assert main(["info", str(edited)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"this tsea does not load {edited}: {loading.value}")
    assert reason in str(loading.value) and "what the file says:" in out
    assert main(["info", str(edited), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problem"] == str(loading.value)


def test_info_shows_class_weights_as_the_mapping_given(tmp_path, capsys):
    path = str(tmp_path / "w.tsea")
    assert main(["fit", "--data", ITALY_TRAIN, "--class-weight", "1=2", "-o", path, *FAST]) == 0
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert '  class_weight: {"1": 2.0}' in out and "this tsea does not load" not in out


def test_info_refuses_a_file_that_is_not_a_model(tmp_path, capsys):
    assert main(["info", ITALY_TEST]) == 1
    assert "is not a valid tsea model file" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "none.tsea")]) == 1
    assert "model file not found" in capsys.readouterr().err


JV_TRAIN = os.path.join(DATASETS, "JapaneseVowels_TRAIN_long.csv")


@pytest.fixture(scope="module")
def twelve_channels(tmp_path_factory):
    """A classifier fitted on 12 channels (JapaneseVowels)."""
    path = str(tmp_path_factory.mktemp("jv") / "jv.tsea")
    assert main(["fit", "--data", JV_TRAIN, "--head", "logistic", "-o", path, *FAST]) == 0
    return path


@pytest.mark.parametrize("command, source", [
    (["embed", ITALY_TEST, "-o", "x.csv"], ITALY_TEST),
    (["embed", "ItalyPowerDemand", "-o", "x.csv"], "ItalyPowerDemand"),
    (["predict", ITALY_TEST, "-o", "x.csv"], ITALY_TEST),
    (["predict", "ItalyPowerDemand", "-o", "x.csv"], "ItalyPowerDemand"),
    (["attention", "--data", "ItalyPowerDemand", "-o", "x.png"], "ItalyPowerDemand"),
])
def test_a_channel_mismatch_names_the_input_not_x(twelve_channels, tmp_path, capsys, monkeypatch,
                                                  command, source):
    monkeypatch.chdir(tmp_path)
    code = main([command[0], "--model", twelve_channels, *command[1:], "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{source} has 1 channel, but this EA" in err and "fitted on 12 channels" in err
    assert " X has" not in err and os.listdir(tmp_path) == []


def test_evaluate_channel_mismatch_names_the_test_file(capsys):
    code = main(["evaluate", "--data", JV_TRAIN, "--test", ITALY_TEST, *FAST])
    err = capsys.readouterr().err
    assert code == 1 and f"{ITALY_TEST} has 1 channel, but this EAClassifier" in err


def test_every_model_kind_has_its_estimator_and_task():
    from tsea import estimators, modelfile
    from tsea.cli import info

    assert set(estimators._KINDS) == set(modelfile.KINDS) == set(info._TASKS)


def test_evaluate_report_matches_the_predictions_it_writes(tmp_path, capsys):
    from sklearn.metrics import balanced_accuracy_score, f1_score

    table = tmp_path / "p.csv"
    assert main(["evaluate", "--data", ITALY_TRAIN, "--test", ITALY_TEST, "--report",
                 "--predictions", str(table), *FAST]) == 0
    out = capsys.readouterr().out
    frame = pd.read_csv(table, dtype=str)
    balanced = balanced_accuracy_score(frame["label"], frame["prediction"])
    assert f"balanced accuracy: {balanced:.4f}" in out
    row = next(line.split() for line in out.splitlines() if line.strip().startswith("2 "))
    assert float(row[3]) == pytest.approx(f1_score(frame["label"], frame["prediction"],
                                                   pos_label="2"), abs=1e-4)
    assert main(["evaluate", "--data", ITALY_TRAIN, "--test", ITALY_TEST, *FAST]) == 0
    assert capsys.readouterr().out.strip().splitlines() == [f"accuracy: {out.split()[1]}"]


def test_evaluate_report_regression_adds_r2_and_max_error(capsys):
    assert main(["evaluate", "--data", COVID_TRAIN, "--test", COVID_TEST, "--report", *FAST]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["rmse", "mae", "r2", "max error"]
    mae, largest = float(lines[1].split(": ")[1]), float(lines[3].split(": ")[1])
    assert largest >= mae


def test_info_of_an_older_file_names_the_parameters_it_predates(models, tmp_path, capsys):
    from tsea import modelfile

    params, meta, arrays = modelfile.read_model(models["enc"])
    # (not `differences`: its legacy value, False, does not fit these weights, which take the
    # differences as a second channel)
    del params["run_dir"], meta["train_length"]
    old = tmp_path / "old.tsea"
    modelfile.write_model(old, "EAEncoder", params, meta, arrays)
    assert main(["info", str(old)]) == 0
    out = capsys.readouterr().out
    assert "input: 1 channel; seed 0" in out  # no training length in files that old
    assert "parameters newer than the file (loading gives them the values of the tsea that " \
           "wrote it): run_dir" in out


def test_a_model_saved_for_cuda_runs_on_this_cpu_with_device_cpu(models, tmp_path, capsys,
                                                                  monkeypatch):
    """A model fitted with device='cuda' on a GPU machine keeps that parameter; on a machine
    without CUDA, --device cpu runs it (faked here: a CPU model's parameter rewritten, and
    CUDA hidden where there is one)."""
    import torch

    from tsea import modelfile

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    params, meta, arrays = modelfile.read_model(models["clf"])
    cuda = tmp_path / "cuda.tsea"
    modelfile.write_model(cuda, "EAClassifier", {**params, "device": "cuda"}, meta, arrays)
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", str(cuda), ITALY_TEST, "-o", str(out), "-q"]) == 1
    assert "CUDA is not available on this machine; use device='auto' or 'cpu'" in \
        capsys.readouterr().err
    assert main(["predict", "--model", str(cuda), ITALY_TEST, "-o", str(out), "-q",
                 "--device", "cpu"]) == 0
    assert main(["embed", "--model", str(cuda), ITALY_TEST, "-o", str(tmp_path / "e.csv"), "-q",
                 "--device", "cpu"]) == 0
    assert main(["embed", "--model", str(cuda), ITALY_TEST, "-o", str(tmp_path / "e.csv"), "-q",
                 "--device", "tpu"]) == 2
    assert "--device: device must be" in capsys.readouterr().err


def test_classifier_class_weight_reaches_the_head_and_survives_the_model_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 1, 20))
    y = np.array(["rare"] * 4 + ["common"] * 26)
    clf = tsea.EAClassifier(**dict(tsea.config.load_config("tiny")), verbose=False,
                            class_weight="balanced").fit(X, y)
    assert clf.head_[-1].class_weight == "balanced"
    clf.save(tmp_path / "m.tsea")
    again = tsea.load_model(tmp_path / "m.tsea")
    assert again.class_weight == "balanced" and again.head_[-1].class_weight == "balanced"
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="class_weight"):
        tsea.EAClassifier(class_weight="inverse").fit(X, y)
    assert "class_weight" not in tsea.EARegressor().get_params()


def test_cli_class_weight(tmp_path, capsys):
    out = tmp_path / "m.tsea"
    assert main(["fit", "--data", ITALY_TRAIN, "--class-weight", "balanced", "-o", str(out),
                 *FAST]) == 0
    clf = tsea.load_model(out)  # --class-weight alone makes a classifier, as --head does
    assert isinstance(clf, tsea.EAClassifier) and clf.class_weight == "balanced"
    assert main(["evaluate", "--data", COVID_TRAIN, "--test", COVID_TEST, "--class-weight",
                 "balanced", *FAST]) == 2
    assert "--class-weight is for classification" in capsys.readouterr().err


@pytest.mark.parametrize("command, args, message", [
    ("predict", [ITALY_TEST, "-o", "p.csv", "--split", "test"],
     "--split picks a split of a named dataset; " + ITALY_TEST + " is a file"),
    ("embed", [ITALY_TEST, "-o", "e.csv", "--split", "train"], "is a file"),
    ("predict", [ITALY_TEST, "-o", "p.csv", "--format", "parquet"],
     "--format sets the format of each shard's output; " + ITALY_TEST + " is one input, whose "
     "output format is the suffix of --output (p.csv)"),
    ("embed", ["ItalyPowerDemand", "-o", "e.csv", "--format", "npy"], "--format sets"),
    ("embed", [DATASETS + "/*_TEST_wide.csv", "-o", "out", "--split", "test"],
     "--split picks a split of a named dataset; " + DATASETS + "/*_TEST_wide.csv names files"),
])
def test_options_the_input_would_ignore_are_usage_errors(models, tmp_path, capsys, monkeypatch,
                                                         command, args, message):
    monkeypatch.chdir(tmp_path)
    model = models["clf"] if command == "predict" else models["enc"]
    assert main([command, "--model", model, *args, "-q"]) == 2
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
    fit = ["fit", "--data", ITALY_TRAIN, "--split", "test", "-o", "m.tsea", *FAST]
    assert main(fit) == 2 and "is a file" in capsys.readouterr().err
