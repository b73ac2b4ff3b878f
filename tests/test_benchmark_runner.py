"""Runner of the archive benchmark: rows, resumability, failures, isolation, CLI."""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from tsea.benchmark import baselines, methods, runner
from tsea.benchmark.methods import MethodSpec, parse_methods
from tsea.benchmark.results import COLUMNS, append_row, read_results

MR = MethodSpec("mr", "minirocket", {"n_kernels": 84})
CALLS = []


def toy_loader(name, split, data_dir=None):
    """Stand-in archive: easy two-class 'Waves', 'Respelled' (Waves whose test split spells one
    class otherwise), unequal-length 'Ragged', regression 'Level', 'Broken' raises, 'Sleepy'
    hangs."""
    CALLS.append((name, split))
    rng = np.random.default_rng(0 if split == "train" else 1)
    t = np.linspace(0, 6 * np.pi, 40)
    if name == "Respelled":
        X, y = toy_loader("Waves", split)
        return X, (np.where(y == "noise", "Noise", y) if split == "test" else y)
    if name == "Waves":
        y = np.array(["sine", "noise"] * 10)
        X = np.stack([np.sin(t * (1 + 0.05 * rng.standard_normal())) if c == "sine"
                      else rng.standard_normal(40) for c in y])[:, None, :]
        return X + 0.1 * rng.standard_normal(X.shape), y
    if name == "Ragged":
        y = np.array(["a", "b"] * 8)
        X = [np.vstack([np.sin(t[: 5 + i]) * (1 if c == "a" else -1)] * 2) for i, c in enumerate(y)]
        return X, y
    if name == "Level":
        y = rng.uniform(0, 5, 20)
        return (y[:, None, None] + 0.05 * rng.standard_normal((20, 1, 30))), y
    if name == "Sleepy":
        time.sleep(600)  # killed by the runner's timeout long before
    raise FileNotFoundError(f"no dataset {name} here")


def test_test_labels_unseen_in_training_are_noted_not_recorded(tmp_path, capsys):
    # a user's test file spelling a class otherwise: the score can only count those series as
    # errors, so the run says so (even when quiet), once per dataset; results.csv keeps its columns
    out = tmp_path / "bench"
    runner.run_benchmark(["Respelled", "Waves"], [MR], seeds="0,1", out_dir=str(out),
                         isolate=False, loader=toy_loader, quiet=True, report=False)
    err = capsys.readouterr().err
    assert err.count("note:") == 1
    assert "Respelled: 10 of 20 test series have a label that no training series has ('Noise')" in err
    df = read_results(str(out / "results.csv"))
    assert list(df.columns) == COLUMNS and set(df["status"]) == {"ok"}
    assert df["error"].isna().all()  # an empty cell: the note is not an error
    assert (df[df["dataset"] == "Respelled"]["score"] <= 0.5).all()


def test_rows_written_and_resumed(tmp_path):
    CALLS.clear()
    out = tmp_path / "bench"
    rows = runner.run_benchmark(["Waves", "Level"], [MR], seeds="0,1", out_dir=str(out),
                                isolate=False, loader=toy_loader, quiet=True, report=False)
    df = read_results(str(out / "results.csv"))
    assert list(df.columns) == COLUMNS
    assert len(df) == len(rows) == 4
    assert set(df["status"]) == {"ok"}
    waves = df[df["dataset"] == "Waves"]
    assert set(waves["metric"]) == {"accuracy"} and (waves["score"] > 0.8).all()
    level = df[df["dataset"] == "Level"].iloc[0]
    assert level["task"] == "regression" and level["metric"] == "rmse" and level["score"] < 1.0
    assert (level["n_train"], level["n_test"], level["length"], level["channels"]) == (20, 20, 30, 1)
    assert (df["fit_seconds"] > 0).all()

    CALLS.clear()
    again = runner.run_benchmark(["Waves", "Level"], [MR], seeds=[0, 1], out_dir=str(out),
                                 isolate=False, loader=toy_loader, quiet=True, report=False)
    assert CALLS == []  # nothing recomputed
    assert len(read_results(str(out / "results.csv"))) == 4
    pd.testing.assert_frame_equal(again, rows)

    # a new seed only runs the missing jobs
    runner.run_benchmark(["Waves", "Level"], [MR], seeds=[0, 1, 2], out_dir=str(out),
                         isolate=False, loader=toy_loader, quiet=True, report=False)
    assert sorted(set(CALLS)) == [("Level", "test"), ("Level", "train"),
                                  ("Waves", "test"), ("Waves", "train")]
    assert len(read_results(str(out / "results.csv"))) == 6


def test_a_method_name_run_again_with_other_settings_is_refused(tmp_path, capsys, monkeypatch):
    out = tmp_path / "bench"
    kw = dict(out_dir=str(out), isolate=False, loader=toy_loader, report=False)
    runner.run_benchmark(["Waves"], [MR], quiet=True, **kw)
    recorded = json.loads((out / "methods.json").read_text())
    assert recorded == {"mr": {"kind": "minirocket", "params": {"n_kernels": 84}}}
    runner.run_benchmark(["Waves"], [MR], **kw)  # the same settings: resumed
    assert "1 of these jobs are in results.csv already and are skipped" in capsys.readouterr().out
    other = MethodSpec("mr", "minirocket", {"n_kernels": 168})
    with pytest.raises(ValueError, match=r"method 'mr' was run into .* with other settings "
                                         r"\(n_kernels: then 84, now 168\): its rows in "
                                         "results.csv would stand for this one"):
        runner.run_benchmark(["Waves"], [other], quiet=True, **kw)
    assert len(read_results(str(out / "results.csv"))) == 1
    # on the command line, a config file edited between two runs into one folder
    from tsea.cli import main

    config = tmp_path / "mine.yaml"
    config.write_text("n_iters: 2\n")
    args = ["benchmark", "--datasets", "GunPoint", "--methods", str(config), "--out", str(out),
            "-q"]
    monkeypatch.setattr(runner, "run_benchmark", lambda **kw: runner.results_io.record_methods(
        kw["out_dir"], parse_methods(kw["methods"])) or pd.DataFrame(columns=COLUMNS))
    assert main([*args, "--no-report"]) == 0
    config.write_text("n_iters: 3\n")
    assert main([*args, "--no-report"]) == 2
    assert "method 'mine' was run into" in capsys.readouterr().err
    # the keys the runner sets itself (the seed, the threads, quiet fits) change no result
    config.write_text("n_iters: 2\nrandom_state: 5\nn_jobs: 4\nverbose: true\n")
    assert main([*args, "--no-report"]) == 0


def test_a_rerun_reading_another_data_folder_is_refused(tmp_path, capsys, monkeypatch):
    # rows of GunPoint read from one folder stood for (and were skipped for) another folder's
    from tsea.cli import main

    out, mine = tmp_path / "bench", tmp_path / "mine"
    mine.mkdir()
    monkeypatch.delenv("TSEA_DATA", raising=False)
    runner.run_benchmark(["Waves"], [MR], out_dir=str(out), isolate=False, loader=toy_loader,
                         quiet=True, report=False)
    assert json.loads((out / "data.json").read_text()) == {"data_dir": None}
    with pytest.raises(ValueError, match=f"{out} holds results of datasets read from no data "
                                         rf"folder \(the bundled and downloaded copies\), and "
                                         f"this run reads them from {mine}: .*Use another --out"):
        runner.run_benchmark(["Waves"], [MR], out_dir=str(out), data_dir=str(mine),
                             isolate=False, loader=toy_loader, quiet=True, report=False)
    monkeypatch.setenv("TSEA_DATA", str(mine))  # the same folder through the environment
    with pytest.raises(ValueError, match="this run reads them from"):
        runner.run_benchmark(["Waves"], [MR], out_dir=str(out), isolate=False,
                             loader=toy_loader, quiet=True, report=False)
    assert main(["benchmark", "--datasets", "GunPoint", "--methods", "minirocket", "--out",
                 str(out), "--data-dir", str(mine), "-q", "--no-report"]) == 2  # before any job
    assert "holds results of datasets read from" in capsys.readouterr().err
    assert len(read_results(str(out / "results.csv"))) == 1


def test_a_job_whose_dataset_lacks_a_split_says_which_and_how_to_fix_it(tmp_path):
    (tmp_path / "OnlyTrain").mkdir()
    (tmp_path / "OnlyTrain" / "OnlyTrain_TRAIN.tsv").write_text("1\t1\t2\t3\n2\t2\t3\t4\n")
    row = runner.run_job("OnlyTrain", MR, 0, data_dir=str(tmp_path))
    assert row["status"] == "failed"
    assert row["error"].startswith(
        f"ValueError: dataset 'OnlyTrain': {tmp_path / 'OnlyTrain'} has OnlyTrain_TRAIN.tsv but "
        "no OnlyTrain_TEST.{ts,tsv,arff} (data_dir); the splits of a dataset are read from one "
        "folder: add the missing split there")


def test_a_split_missing_from_the_users_folder_is_not_read_from_a_bundled_copy(tmp_path):
    # GunPoint's training file in --data-dir and its test file misnamed: the job trained on
    # the user's file and scored on aeon's bundled test split
    from tsea.datasets import load

    X, y = load("GunPoint", "train")
    folder = tmp_path / "GunPoint"
    folder.mkdir()
    rows = [f"{label}\t" + "\t".join(map(str, x[0])) for label, x in zip(y, X)]
    (folder / "GunPoint_TRAIN.tsv").write_text("\n".join(rows) + "\n")
    (folder / "GunPoint_TEST.txt").write_text("\n".join(rows) + "\n")
    assert len(load("GunPoint", "train", data_dir=str(tmp_path))[1]) == len(y)
    for split in ("test", "all"):
        with pytest.raises(ValueError, match=r"has GunPoint_TRAIN.tsv but no "
                                             r"GunPoint_TEST.\{ts,tsv,arff\} \(data_dir\)"):
            load("GunPoint", split, data_dir=str(tmp_path))
    row = runner.run_job("GunPoint", MR, 0, data_dir=str(tmp_path))
    assert row["status"] == "failed" and "but no GunPoint_TEST" in row["error"]


def test_failure_is_recorded_and_the_run_goes_on(tmp_path, capsys):
    rows = runner.run_benchmark(["Broken", "Ragged"], [MR], out_dir=str(tmp_path), isolate=False,
                                loader=toy_loader, report=False)
    by = rows.set_index("dataset")
    assert by.loc["Broken", "status"] == "failed"
    assert "FileNotFoundError: no dataset Broken here" in by.loc["Broken", "error"]
    assert by.loc["Ragged", "status"] == "ok"  # unequal lengths, padded for MiniRocket
    assert by.loc["Ragged", "length"] == 20 and by.loc["Ragged", "channels"] == 2
    assert "[2/2 datasets" in capsys.readouterr().out  # progress lines
    # failed rows are kept on a rerun unless retried
    CALLS.clear()
    runner.run_benchmark(["Broken"], [MR], out_dir=str(tmp_path), isolate=False,
                         loader=toy_loader, quiet=True, report=False)
    assert CALLS == []
    runner.run_benchmark(["Broken"], [MR], out_dir=str(tmp_path), isolate=False,
                         loader=toy_loader, quiet=True, report=False, retry_failed=True)
    assert ("Broken", "train") in CALLS
    assert len(read_results(str(tmp_path / "results.csv"))) == 3


def test_missing_baseline_is_skipped_and_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(baselines, "ts2vec_available", lambda: False)
    rows = runner.run_benchmark(["Waves"], ["ts2vec"], out_dir=str(tmp_path), isolate=False,
                                loader=toy_loader, quiet=True, report=False)
    assert rows.loc[0, "status"] == "skipped"
    assert "pip install --no-deps ts2vec" in rows.loc[0, "error"]
    runner.run_benchmark(["Waves"], ["ts2vec"], out_dir=str(tmp_path), isolate=False,
                         loader=toy_loader, quiet=True, report=False)
    assert len(read_results(str(tmp_path / "results.csv"))) == 2  # skipped rows are retried


@pytest.mark.slow
def test_isolated_worker_measures_memory_and_times_out(tmp_path):
    rows = runner.run_benchmark(["Waves", "Sleepy"], [MR], out_dir=str(tmp_path), jobs=2,
                                timeout=60, loader=toy_loader, quiet=True, report=False)
    by = rows.set_index("dataset")
    assert by.loc["Waves", "status"] == "ok"
    assert 50 < by.loc["Waves", "peak_memory_mb"] < 20_000
    assert by.loc["Sleepy", "status"] == "timeout"
    assert "60" in by.loc["Sleepy", "error"]


def test_results_file_is_strict(tmp_path):
    path = str(tmp_path / "results.csv")
    append_row(path, {"dataset": "a,b", "method": "m", "seed": 0, "status": "failed",
                      "error": 'line\nbreak "quoted"'})
    df = read_results(path)
    assert df.loc[0, "dataset"] == "a,b" and df.loc[0, "error"] == 'line\nbreak "quoted"'
    with pytest.raises(ValueError, match="unknown result columns"):
        append_row(path, {"dataset": "x", "accuracy": 1.0})
    foreign = tmp_path / "other.csv"
    foreign.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="does not look like a tsea results file"):
        read_results(str(foreign))
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]


@pytest.mark.parametrize("damage, message", [
    (lambda t: t + "Waves,classification,mr,1,acc", "row 3: no status"),  # cut short
    (lambda t: t + "hello world\n", "row 3: no method"),
    (lambda t: t.replace(",ok,\n", ",ok,,extra\n"), "cannot be read as a tsea results file: "
                                                     "Error tokenizing data"),
    (lambda t: t.replace("0.75", "abc"), "row 2: score 'abc' is not a number"),
    (lambda t: t.replace(",ok,", ",okay,"), "row 2: status 'okay' is none of ok, failed"),
    (lambda t: t.replace("Waves,classification,mr,7", "Waves,classification,mr,x"),
     "row 2: seed 'x' is not a whole number"),
    (lambda t: t.replace("accuracy,0.75", ","), "row 2: status ok without a metric and a score"),
])
def test_a_damaged_results_file_names_itself_and_its_bad_row(tmp_path, damage, message):
    path = str(tmp_path / "results.csv")
    append_row(path, {"dataset": "Ragged", "method": "mr", "seed": 0, "status": "failed",
                      "error": "x"})
    append_row(path, {"dataset": "Waves", "task": "classification", "method": "mr", "seed": 7,
                      "metric": "accuracy", "score": 0.75, "status": "ok"})
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(damage(text))
    with pytest.raises(ValueError) as err:
        read_results(path)
    assert str(err.value).startswith(path) and message in str(err.value)


def test_a_preset_name_is_the_method_of_its_config_file():
    path = os.path.join(os.path.dirname(__file__), "..", "configs", "ablation-none.yaml")
    by_name, by_path = parse_methods(["ablation-none"]) + parse_methods([path])
    assert by_name == by_path
    assert (by_name.name, by_name.kind, by_name.params["attention"]) == ("ablation-none", "ea-dc",
                                                                         "none")


def test_methods_parse(tmp_path):
    specs = parse_methods(["minirocket,ts2vec", "ea-dc"])
    assert [(s.name, s.kind) for s in specs] == [("minirocket", "minirocket"),
                                                ("ts2vec", "ts2vec"), ("ea-dc", "ea-dc")]
    with pytest.raises(ValueError, match="unknown method 'rocket' .did you mean 'minirocket'.."):
        parse_methods(["rocket"])
    with pytest.raises(ValueError, match=r"unknown method 'ablation-nne' \(did you mean "
                                         r"'ablation-none'\?\): .* a preset \(.*ts2vec-like"):
        parse_methods(["ablation-nne"])
    with pytest.raises(ValueError, match="more than once"):
        parse_methods(["minirocket", "minirocket"])
    with pytest.raises(ValueError, match="does not exist"):
        parse_methods([str(tmp_path / "nope.yaml")])
    with pytest.raises(ValueError, match="seeds"):
        runner.parse_seeds("0,x")
    # recorded as a failure job after job, where a seed out of range is a usage error
    with pytest.raises(ValueError, match=r"--seeds '0,4294967296': a seed must be below 2\*\*32"):
        runner.parse_seeds("0,4294967296")
    assert runner.parse_seeds("4294967295") == [4294967295]
    with pytest.raises(ValueError, match="more than once"):
        runner.run_benchmark("Waves,Waves", [MR], out_dir=str(tmp_path), isolate=False)
    (tmp_path / "file").write_text("kept\n")
    with pytest.raises(ValueError, match="--out .*file is a file; the output folder holds"):
        runner.run_benchmark("Waves", [MR], out_dir=str(tmp_path / "file"), isolate=False)
    assert (tmp_path / "file").read_text() == "kept\n"


def test_jobs_resolve_like_joblib(monkeypatch):
    monkeypatch.setattr(runner, "cpu_count", lambda: 4)
    assert runner.resolve_jobs(-1, 10) == 4
    assert runner.resolve_jobs(-2, 10) == 3
    assert runner.resolve_jobs(-1, 2) == 2  # never more workers than datasets
    assert runner.resolve_jobs(3, 10) == 3
    assert runner.resolve_jobs(-9, 10) == 1
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="jobs must be a non-zero integer"):
            runner.resolve_jobs(bad, 10)


def test_cli_arguments_parse_and_reach_the_runner(tmp_path, monkeypatch):
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    args = parser.parse_args(["--datasets", "Waves,Level", "--methods", "minirocket",
                              "--method", "ts2vec", "--seeds", "0,1", "--out", str(tmp_path),
                              "--jobs", "2", "--timeout", "30", "--quiet", "--no-report"])
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return pd.DataFrame({"status": ["ok", "failed"]})

    monkeypatch.setattr(runner, "run_benchmark", fake)
    assert runner.main_from_args(args) == 1  # one failed job -> exit status 1
    assert seen["datasets"] == "Waves,Level" and seen["methods"] == ["minirocket", "ts2vec"]
    assert (seen["seeds"], seen["jobs"], seen["timeout"], seen["quiet"]) == ("0,1", 2, 30.0, True)
    assert parser.parse_args(["-q"]).quiet  # as on every other subcommand
    defaults = parser.parse_args([])
    assert (defaults.suite, defaults.out, defaults.seeds) == ("quick", "./tsea-benchmark", "0")
    assert defaults.jobs == -1  # one dataset per core: the quick suite's 10-minute floor on 2 cores
    with pytest.raises(SystemExit):
        parser.parse_args(["--suite", "nope"])


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "--jobs must be a non-zero integer"),
    (["--threads", "0"], "--threads must be a whole number >= 1 (torch threads per job), got 0"),
    (["--threads", "-3"], "--threads must be a whole number >= 1"),
    (["--timeout", "-1"], "--timeout must be positive seconds"),
    (["--timeout", "inf"], "--timeout must be positive seconds, at most 2592000 (30 days"),
    (["--timeout", "1e10"], "--timeout must be positive seconds, at most 2592000"),
    (["--data-dir", "/no/such/dir"], "--data-dir /no/such/dir is not a folder (it does not "
                                     "exist); it holds <Name>/<Name>_TRAIN and _TEST files"),
    (["--data-dir", __file__], f"--data-dir {__file__} is not a folder; it holds"),
    (["--out", __file__], f"--out {__file__} is a file; the output folder holds"),
    (["--report-only", "--out", "/no/such/dir"], "--report-only: no results.csv in /no/such/dir"),
    (["--seeds", "0,0"], "--seeds '0,0' must be distinct"),
    (["--methods", ""], "--methods is empty; leave it out for the defaults"),
    (["--methods", "nosuch"], "unknown method 'nosuch'"),
    (["--method", "nosuch.yaml"], "nosuch.yaml"),
    (["--datasets", "a,a"], "--datasets lists a more than once"),
    (["--datasets", "GunPoint,NoSuchSet,gunpoint"],
     "--datasets: no dataset 'NoSuchSet', 'gunpoint' (did you mean 'GunPoint'?): it is in none "
     "of the UCR, UEA or TSER archives"),
])
def test_bad_options_are_usage_errors_before_any_job(tmp_path, monkeypatch, capsys, args, message):
    from tsea.cli import main

    monkeypatch.setattr(runner, "run_benchmark", lambda **kw: pytest.fail("a job started"))
    out = [] if "--out" in args else ["--out", str(tmp_path / "b")]
    assert main(["benchmark", *args, *out, "-q"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_report_only(tmp_path):
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    args = parser.parse_args(["--report-only", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="no results.csv"):
        runner.main_from_args(args)
    append_row(str(tmp_path / "results.csv"), {
        "dataset": "Waves", "task": "classification", "method": "mr", "seed": 0,
        "metric": "accuracy", "score": 0.75, "status": "ok"})
    assert runner.main_from_args(args) == 0
    assert "| Waves | **0.7500** |" in (tmp_path / "results.md").read_text()


def test_method_configs_may_set_head_and_pooling(tmp_path, monkeypatch):
    from tsea.estimators import EAClassifier, EARegressor

    cfg = tmp_path / "ridge-mean.yaml"
    cfg.write_text("pooling: mean\nhead: {classification: ridge, regression: svr}\n")
    spec = parse_methods([str(cfg)])[0]
    assert spec.params == {"pooling": "mean", "head": {"classification": "ridge", "regression": "svr"}}

    class Seen(Exception):
        pass

    def spy_fit(self, X, y):
        raise Seen(self.get_params())

    for task, cls, head in (("classification", EAClassifier, "ridge"),
                            ("regression", EARegressor, "svr")):
        monkeypatch.setattr(cls, "fit", spy_fit)
        with pytest.raises(Seen) as seen:
            methods.fit_predict_ea(None, None, None, task, 7, **spec.params)
        params = seen.value.args[0]
        assert (params["head"], params["pooling"], params["random_state"]) == (head, "mean", 7)
    # the runner's thread count beats a config's n_jobs (configs/default.yaml's null: every
    # core), as its seed beats random_state
    cfg.write_text("n_jobs: null\nrandom_state: 3\n")
    monkeypatch.setattr(EAClassifier, "fit", spy_fit)
    with pytest.raises(Seen) as seen:
        methods.fit_predict_ea(None, None, None, "classification", 7, threads=1,
                               **parse_methods([str(cfg)])[0].params)
    assert (seen.value.args[0]["n_jobs"], seen.value.args[0]["random_state"]) == (1, 7)
    for text in ("head: rocket\n", "head: {classification: svr}\n", "head: {images: svm}\n"):
        cfg.write_text(text)
        with pytest.raises(ValueError, match="head"):
            parse_methods([str(cfg)])


def test_config_method_and_ts2vec_run(tmp_path):
    pytest.importorskip("ts2vec")  # optional 'bench' extra
    cfg = tmp_path / "tiny-evolving.yaml"
    cfg.write_text("repr_dim: 8\nd_model: 8\ndepth: 1\nn_heads: 2\nattention: evolving\n"
                   "n_iters: 2\nbatch_size: 4\nmax_attention_len: 16\n")
    spec = parse_methods([str(cfg)])[0]
    assert (spec.name, spec.kind, spec.params["attention"]) == ("tiny-evolving", "ea-dc", "evolving")
    t2v = MethodSpec("ts2vec", "ts2vec", {"n_iters": 2})
    rows = runner.run_benchmark(["Waves", "Level", "Ragged"], [spec, t2v], out_dir=str(tmp_path),
                                isolate=False, loader=toy_loader, quiet=True, report=False)
    assert list(rows["status"]) == ["ok"] * 6, rows["error"].tolist()
    assert set(rows["method"]) == {"tiny-evolving", "ts2vec"}
    acc = rows[rows["metric"] == "accuracy"]["score"]
    assert acc.between(0, 1).all()
    assert (rows[rows["metric"] == "rmse"]["score"] >= 0).all()


@pytest.mark.slow  # starts Python processes (~3 s)
def test_processes_appending_to_one_results_file_lose_no_rows(tmp_path):
    # Two `tsea benchmark` runs may share an --out folder: the read-modify-replace of each
    # append must be exclusive across processes, or rows written meanwhile are lost.
    path = str(tmp_path / "results.csv")
    code = (
        "import sys\n"
        "from tsea.benchmark.results import append_row\n"
        "for i in range(40):\n"
        "    append_row(sys.argv[1], {'dataset': f'{sys.argv[2]}-{i}', 'method': 'm',\n"
        "                             'seed': 0, 'status': 'ok', 'metric': 'accuracy',\n"
        "                             'score': 0.5})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, path, f"p{k}"]) for k in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    df = read_results(path)
    assert sorted(df["dataset"]) == sorted(f"p{k}-{i}" for k in range(4) for i in range(40))


@pytest.mark.slow  # a real run in other processes (~20 s)
def test_ctrl_c_records_no_failure_for_the_jobs_it_stops(tmp_path):
    # A terminal's Ctrl-C signals the whole process group: the workers as well as the runner.
    # The jobs it stops are no results; recorded as failed, the resumed run would skip them.
    import signal

    config = tmp_path / "slow.yaml"
    config.write_text("".join(
        "n_iters: 400\n" if line.startswith("n_iters:") else line
        for line in open(os.path.join(os.path.dirname(__file__), "..", "configs", "tiny.yaml"))))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsea", "benchmark", "--datasets", "ItalyPowerDemand,GunPoint",
         "--methods", f"minirocket,{config}", "--seeds", "0,1", "--jobs", "2", "--out", str(out),
         "-q"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # as a terminal starts it: a test run started in the background by a non-interactive
        # shell ignores SIGINT, and that disposition would pass to the run under test
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    results = out / "results.csv"
    deadline = time.time() + 120
    while not (results.exists() and len(read_results(str(results)))) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the slow fits are under way
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    rows = read_results(str(results))
    assert len(rows) and set(rows["status"]) == {"ok"}, rows[["dataset", "method", "status", "error"]]


@pytest.mark.slow  # a real run in another process (~10 s)
def test_the_uea_example_strips_names_and_fails_when_a_job_fails(tmp_path):
    (tmp_path / "OnlyTrain").mkdir()
    (tmp_path / "OnlyTrain" / "OnlyTrain_TRAIN.tsv").write_text("1\t1\t2\t3\n2\t2\t3\t4\n")
    script = os.path.join(os.path.dirname(__file__), "..", "examples", "benchmark_uea.py")
    done = subprocess.run([sys.executable, script, str(tmp_path), "--datasets", " OnlyTrain",
                           "--methods", "minirocket", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "1 of 1 jobs failed" in done.stdout
    assert list(read_results(str(tmp_path / "out" / "results.csv"))["dataset"]) == ["OnlyTrain"]


@pytest.mark.slow
def test_a_worker_ends_when_its_runner_is_killed(tmp_path):
    # after `kill -9` of tsea benchmark its worker ran on, past any --timeout
    import signal
    import textwrap

    script, mark = tmp_path / "runner.py", tmp_path / "worker.pid"
    script.write_text(textwrap.dedent("""
        import os, time
        from tsea.benchmark import worker
        from tsea.benchmark.methods import MethodSpec

        def sleepy(name, split, data_dir=None):  # the job: say its pid, then take long
            with open(os.environ["TSEA_TEST_MARK"], "w") as fh:
                fh.write(str(os.getpid()))
            time.sleep(120)

        if __name__ == "__main__":
            worker.run_isolated("Sleepy", MethodSpec("mr", "minirocket", {}), 0, loader=sleepy,
                                timeout=300)
    """))
    runner_proc = subprocess.Popen([sys.executable, str(script)],
                                   env={**os.environ, "TSEA_TEST_MARK": str(mark)})

    def running(pid):
        try:
            with open(f"/proc/{pid}/status") as fh:
                return "\nState:\tZ" not in fh.read()  # a zombie has ended
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60
    while not (mark.exists() and mark.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = int(mark.read_text())
    assert running(pid)
    runner_proc.send_signal(signal.SIGKILL)
    runner_proc.wait()
    deadline = time.monotonic() + 15
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = running(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive


@pytest.mark.slow  # starts a worker process (~3 s)
def test_an_interrupted_run_stops_the_workers_of_its_running_jobs():
    # a worker started just after a Ctrl-C never hears of it: its job held the run until it ended
    import threading

    from tsea.benchmark import worker

    rows = []
    job = threading.Thread(target=lambda: rows.append(worker.run_isolated(
        "Sleepy", MR, 0, loader=toy_loader, timeout=300)))
    job.start()
    deadline = time.monotonic() + 60
    while not any(p.is_alive() for p in list(worker._LIVE)) and time.monotonic() < deadline:
        time.sleep(0.1)
    start = time.monotonic()
    worker.stop_workers()
    job.join(30)
    assert not job.is_alive() and time.monotonic() - start < 30
    assert rows[0]["status"] == "failed" and rows[0]["error"].startswith(worker.DIED)
    assert not worker._LIVE
