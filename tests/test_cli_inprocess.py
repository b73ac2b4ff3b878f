"""`tsea.cli.main` called in process (cheap once torch is imported): config errors, regression
evaluation, the benchmark wiring."""

import os

import numpy as np
import pandas as pd
import pytest

from tsea.cli import main
from tsea.cli.parser import _benchmark_parser

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(REPO, "examples", "data")


def test_unknown_set_key_exits_2_naming_key_and_valid_keys(tmp_path, capsys):
    code = main(["fit", "--data", os.path.join(DATASETS, "ItalyPowerDemand_TRAIN_wide.csv"),
                 "-o", str(tmp_path / "m.tsea"), "--set", "learning_rate=1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("tsea fit: error: --set: unknown parameter 'learning_rate'")
    assert "valid parameters: " in err and "max_attention_len" in err
    assert not (tmp_path / "m.tsea").exists()


def test_unknown_key_in_config_file_exits_2(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("depth: 1\nheads: 2\n")
    code = main(["fit", "--data", os.path.join(DATASETS, "ItalyPowerDemand_TRAIN_wide.csv"),
                 "-o", str(tmp_path / "m.tsea"), "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and "unknown parameter 'heads'" in err and str(config) in err


def test_evaluate_regression_csv_prints_rmse_and_mae(capsys):
    train = os.path.join(DATASETS, "Covid3Month_TRAIN_wide.csv")
    test = os.path.join(DATASETS, "Covid3Month_TEST_wide.csv")
    code = main(["evaluate", "--data", train, "--test", test, "--config", "tiny",
                 "--set", "n_iters=2", "--quiet"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    assert [line.split(":")[0] for line in out] == ["rmse", "mae"]
    rmse, mae = (float(line.split(": ")[1]) for line in out)
    assert np.isfinite(rmse) and 0 <= mae <= rmse
    targets = pd.read_csv(test)["target"].to_numpy()
    assert rmse < 10 * targets.std() + 1  # sane scale: predictions are regression values


@pytest.mark.parametrize("flag, expected", [([], "max"), (["--pooling", "max+mean"], "max+mean")])
def test_evaluate_pooling_option_reaches_the_estimator(flag, expected, monkeypatch, capsys):
    from tsea.estimators import supervised

    seen = []
    original = supervised._Supervised._check_params

    def spy(self):
        seen.append(self.pooling)
        original(self)

    monkeypatch.setattr(supervised._Supervised, "_check_params", spy)
    train = os.path.join(DATASETS, "Covid3Month_TRAIN_wide.csv")
    test = os.path.join(DATASETS, "Covid3Month_TEST_wide.csv")
    code = main(["evaluate", "--data", train, "--test", test, "--config", "tiny",
                 "--set", "n_iters=1", "--quiet", *flag])
    assert code == 0, capsys.readouterr()
    assert seen == [expected]


def test_regression_head_is_refused_for_classification(capsys):
    train = os.path.join(DATASETS, "ItalyPowerDemand_TRAIN_wide.csv")
    code = main(["evaluate", "--data", train, "--test", train, "--head", "svr", "--config", "tiny"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == ("tsea evaluate: error: head 'svr' is not available for classification; "
                   "choose from logistic, svm, ridge, finetune")


def test_embed_npy_writes_ids_next_to_it(tmp_path, capsys):
    from tsea.config import load_config
    from tsea.estimators import EAEncoder

    data = os.path.join(DATASETS, "JapaneseVowels_TEST_long.csv")
    model = tmp_path / "m.tsea"
    assert main(["fit", "--data", data, "--config", "tiny", "--set", "n_iters=1", "-o",
                 str(model), "-q"]) == 0
    assert EAEncoder.load(str(model)).get_params()["repr_dim"] == load_config("tiny")["repr_dim"]
    assert main(["embed", "--model", str(model), data, "-o", str(tmp_path / "e.npy"),
                 "--pooling", "mean", "-q"]) == 0
    Z = np.load(tmp_path / "e.npy")
    ids = (tmp_path / "e.ids.txt").read_text().splitlines()
    first_seen = list(dict.fromkeys(pd.read_csv(data, dtype={"id": str})["id"]))
    assert ids == first_seen and Z.shape == (len(ids), 16) and Z.dtype == np.float32
    assert main(["embed", "--model", str(model), data, "-o", str(tmp_path / "both.npy"),
                 "--pooling", "max+mean", "-q"]) == 0
    both = np.load(tmp_path / "both.npy")
    assert both.shape == (len(ids), 32) and np.array_equal(both[:, 16:], Z)
    # without --pooling the model's own pooling is used
    model2 = tmp_path / "m2.tsea"
    assert main(["fit", "--data", data, "--config", "tiny", "--set", "n_iters=1", "--set",
                 "pooling=max+mean", "-o", str(model2), "-q"]) == 0
    assert main(["embed", "--model", str(model2), data, "-o", str(tmp_path / "own.npy"),
                 "-q"]) == 0
    assert np.load(tmp_path / "own.npy").shape == (len(ids), 32)


def test_benchmark_subcommand_uses_the_runner_arguments():
    parser, runner = _benchmark_parser()
    args = parser.parse_args([])
    assert args.suite == "quick"  # no arguments: the offline quick suite
    assert callable(runner.main_from_args)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--suite", "nope"])
    assert info.value.code == 2


def test_benchmark_arguments_reach_the_runner(monkeypatch):
    from tsea.benchmark import runner

    seen = []
    monkeypatch.setattr(runner, "main_from_args", lambda args: seen.append(args) or 3)
    assert main(["benchmark"]) == 3  # the runner's status is the exit status
    assert seen[-1].suite == "quick" and seen[-1].quiet is False
    assert main(["--quiet", "benchmark", "--datasets", "GunPoint", "--seeds", "0,1"]) == 3
    assert seen[-1].quiet is True and seen[-1].datasets == "GunPoint" and seen[-1].seeds == "0,1"


def test_embed_csv_example_runs(tmp_path, monkeypatch, capsys):
    import runpy

    script = os.path.join(REPO, "examples", "embed_csv.py")
    monkeypatch.setattr("sys.argv", [script, "--out-dir", str(tmp_path)])
    runpy.run_path(script, run_name="__main__")
    out = capsys.readouterr().out
    assert "$ tsea fit" in out and "$ tsea embed" in out and "test-0" in out
    frame = pd.read_csv(tmp_path / "embeddings.csv", dtype={"id": str})
    source = pd.read_csv(os.path.join(DATASETS, "ItalyPowerDemand_TEST_wide.csv"), dtype={"id": str})
    assert list(frame["id"]) == list(source["id"])


def test_the_help_examples_on_one_model_run_in_their_order(tmp_path, monkeypatch, capsys):
    # `tsea --help` fitted its model.tsea on BasicMotions (6 channels) and then embedded a
    # 1-channel CSV with it, which fails
    from tsea.cli.parser import MAIN_EPILOG

    commands = [line.split()[1:] for line in MAIN_EPILOG.splitlines() if "model.tsea" in line]
    assert [words[0] for words in commands] == ["fit", "embed", "attention"]
    monkeypatch.chdir(tmp_path)
    for words in commands:
        args = [os.path.join(REPO, w) if w.startswith("examples/") else w for w in words]
        assert main(args) == 0, words
    assert (tmp_path / "embeddings.csv").is_file() and (tmp_path / "attention.png").is_file()
