"""What each ``tsea`` subcommand does once its arguments are parsed (see :mod:`tsea.cli`)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from tsea.benchmark.scores import comparable_labels, unseen_labels_note
from tsea.cli.checks import (
    UsageError,
    check_input_options,
    check_shard_outputs,
    not_a_directory,
    precheck,
    require_file,
)
from tsea.cli.io import load_data, regression_targets
from tsea.datasets import infer_task
from tsea.params import CLASSIFICATION_HEADS, REGRESSION_HEADS, plain_value
from tsea.utils import silence_lightning


def info(args, message: str) -> None:
    """Progress/summary line on stderr (stdout is kept for results); silent with --quiet."""
    if not getattr(args, "quiet", False):
        print(f"tsea: {message}", file=sys.stderr, flush=True)


def estimators(args):
    """Import :mod:`tsea.estimators` (torch, Lightning) and, unless --debug, silence library
    chatter: Lightning's info logs ("GPU available", tips) and library warnings. Progress bars
    are the estimators' own (``verbose``) and stay. Lightning sets its log level on import,
    hence after the import."""
    import tsea.estimators as module

    if not getattr(args, "debug", False):
        silence_lightning(also=("torch", "sklearn"))
    return module


def encoder_params(args) -> dict:
    """Config file + --set overrides, with ``verbose`` following --quiet (progress bars are
    shown by default) unless ``verbose`` is set explicitly with --set."""
    from tsea.config import load_config, parse_override

    params = load_config(args.config, args.set or ())
    explicit = {parse_override(s)[0] for s in (args.set or ())}
    if args.quiet:
        params["verbose"] = False
    elif "verbose" not in explicit:
        params["verbose"] = True
    return params


def _save(args, model, path) -> None:
    """Save ``model``; ``verbose`` that only followed --quiet is the command line's display
    setting, not the model's, so the file keeps the value the config and --set gave."""
    from tsea.config import load_config
    from tsea.params import defaults

    model.set_params(verbose=load_config(args.config, args.set or ()).get(
        "verbose", defaults()["verbose"]))
    model.save(path)


def _load_model(args, path: str):
    require_file(path, "model file")
    return estimators(args).EAEncoder.load(path)


def _runtime_overrides(args, model) -> None:
    """--n-jobs and --device of embed and predict, over the model file's own values."""
    from tsea.utils import resolve_device

    if args.n_jobs is not None:
        model.n_jobs = args.n_jobs
    if args.device is not None:
        try:
            resolve_device(args.device)
        except ValueError as exc:
            raise UsageError(f"--device: {exc}") from None
        model.device = args.device


def _with_ids(exc: ValueError, data) -> ValueError:
    """The estimators name the input "X" and its series by position ("X: series 3, ..."); on
    the command line, name the file (:func:`~tsea.data.csv_io.renumber_series`) and the
    series' id too."""
    from tsea.data.csv_io import renumber_series

    exc = renumber_series(exc, data.source, 0, said_as="X")
    head = f"{data.source}: "
    match = re.match(r"(?:the embedding of )?series (\d+)", str(exc)[len(head):])
    if not str(exc).startswith(head) or match is None or int(match.group(1)) >= data.n_series:
        return exc
    i = int(match.group(1))
    return ValueError(str(exc).replace(f"series {i}", f"series {i} (id {data.ids[i]!r})", 1))


def _describe(data) -> str:
    return f"{data.n_series} series from {data.source}"


def cmd_fit(args) -> int:
    precheck(args, args.data)
    _check_model_output(args.out)
    # --task auto, given, asks for a head as --task classification does (inferring the task)
    supervised = args.head is not None or args.task is not None or args.class_weight is not None
    params = encoder_params(args)
    kw = {"label_column": args.label_column, "id_column": args.id_column}
    if _given_task(args) is not None:
        kw["task"] = _given_task(args)
    # pre-training alone needs no labels: an empty label cell is no error then
    data = load_data(args.data, split=args.split, labels=supervised, **kw)
    if supervised:
        y = _labels(data, "training")
        task, head = _task_and_head(args, y, data.dataset)
        model, y = _supervised_model(args, params, task, head, y)
        info(args, f"{task} with head {head}: training on {_describe(data)}")
    else:
        model, y = estimators(args).EAEncoder(**params), None
        info(args, f"pre-training on {_describe(data)}")
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # Lightning's bar: stdout is for results
            model.fit(*((data.X,) if y is None else (data.X, y)), resume_from=args.resume)
    except ValueError as exc:
        raise _with_ids(exc, data) from None
    seconds = time.perf_counter() - start
    _save(args, model, args.out)
    info(args, f"saved {type(model).__name__} to {args.out} (fit {seconds:.1f} s)")
    return 0


def _given_task(args) -> str | None:
    """--task classification or regression; None when it is to be inferred (auto, or none)."""
    return None if args.task in (None, "auto") else args.task


def _task_and_head(args, y_train, dataset) -> tuple[str, str]:
    """The task (--task, else inferred from the training targets) and its head (--head, else
    the task's default); UsageError for a head of the other task."""
    task = _given_task(args) or infer_task(y_train, dataset)
    heads = CLASSIFICATION_HEADS if task == "classification" else REGRESSION_HEADS
    head = args.head or heads[0]
    if head not in heads:
        raise UsageError(f"head {head!r} is not available for {task}; choose from {', '.join(heads)}")
    return task, head


def _supervised_model(args, params, task: str, head: str, y_train):
    """An unfitted EAClassifier or EARegressor, and the training targets it takes."""
    module = estimators(args)
    if task == "regression":
        if args.class_weight is not None:
            raise UsageError("--class-weight is for classification; the targets are regression's")
        return module.EARegressor(head=head, **params), regression_targets(y_train, "training")
    class_weight = args.class_weight
    if isinstance(class_weight, dict):
        class_weight = _labels_by_text(class_weight, y_train)
    return module.EAClassifier(head=head, class_weight=class_weight, **params), y_train


def _texts_of(labels) -> tuple[dict, dict]:
    """``(text -> label, text -> [labels])`` of ``labels`` as a table writes them; the second
    holds the texts that more than one label prints as (1 and '1')."""
    by_text, clashes = {}, {}
    for label in dict.fromkeys(plain_value(v) for v in labels):
        first = by_text.setdefault(str(label), label)
        if first != label:
            clashes.setdefault(str(label), [first]).append(label)
    return by_text, clashes


def _labels_by_text(weights: dict, y_train) -> dict:
    """``--class-weight LABEL=W`` keyed by the training labels that print as each LABEL."""
    by_text, clashes = _texts_of(y_train)
    if set(clashes) & set(weights):
        raise UsageError(f"--class-weight: more than one training label prints as "
                         f"{', '.join(map(repr, sorted(set(clashes) & set(weights))))}")
    unknown = [text for text in weights if text not in by_text]
    if unknown:
        raise UsageError(f"--class-weight: {', '.join(map(repr, unknown))} "
                         f"{'is not a label' if len(unknown) == 1 else 'are not labels'} of the "
                         f"training series; the labels are {', '.join(sorted(by_text))}")
    return {by_text[text]: weight for text, weight in weights.items()}


def cmd_embed(args) -> int:
    """Stream a file (or each shard of a folder/glob) through the model into the output;
    a dataset name is loaded whole (archive datasets are small)."""
    from tsea.cli.embed_io import EMBED_SUFFIXES, embed_file, is_shard_spec, write_embeddings

    shards = is_shard_spec(args.input)
    check_input_options(args, shards)
    precheck(args, None if shards else args.input)
    if not shards:  # before the model is loaded and the input read: the writer refuses it later
        _check_format("--output", args.output, EMBED_SUFFIXES)
    pairs = _shard_pairs(args) if shards else None
    encoder = _load_model(args, args.model)
    _runtime_overrides(args, encoder)
    if args.pooling is None:
        args.pooling = encoder.pooling
    columns = {"label_column": args.label_column, "id_column": args.id_column}
    start = time.perf_counter()
    if shards:
        def one(shard, out):
            n, d = embed_file(encoder, shard, out, pooling=args.pooling,
                              progress=not args.quiet, **columns)
            return n, f"{n} x {d} embeddings"

        return _each_shard(args, pairs, one, "embedded")
    from tsea.cli.io import is_file_spec

    if is_file_spec(args.input):
        if os.path.isdir(args.input):
            raise ValueError(f"{args.input} is a directory")
        n, d = embed_file(encoder, args.input, args.output, pooling=args.pooling,
                          progress=not args.quiet, **columns)
        written = [args.output]
        if args.output.lower().endswith(".npy"):
            from tsea.cli.embed_io import ids_path_for

            written.append(ids_path_for(args.output))
    else:  # a dataset name: loaded whole (archive datasets are small)
        data = load_data(args.input, split=args.split, labels=False, **columns)
        try:
            Z = encoder.transform(data.X, pooling=args.pooling)
        except ValueError as exc:
            raise _with_ids(exc, data) from None
        written = write_embeddings(args.output, Z, data.ids)
        n, d = Z.shape
    seconds = time.perf_counter() - start
    info(args, f"wrote {n} x {d} embeddings to {', '.join(written)} "
               f"({seconds:.1f} s, {n / max(seconds, 1e-9):.0f} series/s)")
    return 0


def _labels(data, what: str) -> np.ndarray:
    if data.y is None:
        raise ValueError(f"{what} data {data.source} has no labels (use --label-column for CSV)")
    return data.y


def cmd_evaluate(args) -> int:
    from tsea.cli.io import is_file_spec

    train_is_file = is_file_spec(args.data)
    if train_is_file and args.test is None:
        raise UsageError("--test is required when --data is a file (a dataset name brings its own test split)")
    if args.test is not None and not is_file_spec(args.test):
        raise UsageError(f"--test expects a file, got {args.test!r}")
    precheck(args, args.data, args.test)
    if args.out is not None:
        _check_model_output(args.out)
    if args.predictions is not None:
        _check_table_output("--predictions", args.predictions)
    params = encoder_params(args)
    kw = {"label_column": args.label_column, "id_column": args.id_column}
    if _given_task(args) is not None:
        kw["task"] = _given_task(args)
    train = load_data(args.data, split="train", **(kw if train_is_file else {}))
    if args.test is not None:
        test = load_data(args.test, **kw)
    else:
        test = load_data(args.data, split="test")
    y_train, y_test = _labels(train, "training"), _labels(test, "test")
    task, head = _task_and_head(args, y_train, train.dataset)
    if task == "classification":
        from tsea.estimators.labels import encode_labels

        encode_labels(y_train, len(y_train))  # targets that are no class labels: said first
        note = unseen_labels_note(y_train, y_test)
        if note is not None:  # shown even with --quiet: it bounds the accuracy printed
            print(f"tsea evaluate: note: {note}", file=sys.stderr, flush=True)
    else:
        y_test = regression_targets(y_test, "test")
    if args.pooling is not None:
        params = {**params, "pooling": args.pooling}
    model, y_train = _supervised_model(args, params, task, head, y_train)
    info(args, f"{task} with head {head}: training on {_describe(train)}")
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            model.fit(train.X, y_train)
    except ValueError as exc:
        raise _with_ids(exc, train) from None
    fit_seconds = time.perf_counter() - start
    if args.out is not None:
        _save(args, model, args.out)
        info(args, f"saved {type(model).__name__} to {args.out}")
    try:
        predictions = np.asarray(model.predict(test.X))
    except ValueError as exc:
        raise _with_ids(exc, test) from None
    info(args, f"fit {fit_seconds:.1f} s; testing on {_describe(test)}")
    if args.predictions is not None:
        _write_predictions(args.predictions, test.ids, y_test, predictions)
        info(args, f"wrote {len(predictions)} predictions to {args.predictions}")

    if task == "classification":
        predictions, truth = comparable_labels(predictions, y_test)
        accuracy = float(np.mean(predictions == truth))
        print(f"accuracy: {accuracy:.4f}")
        if args.report:
            from sklearn.metrics import balanced_accuracy_score, classification_report

            print(f"balanced accuracy: {balanced_accuracy_score(truth, predictions):.4f}")
            print(classification_report(truth, predictions, digits=4, zero_division=0).rstrip())
    else:
        error = predictions.astype(np.float64) - y_test
        print(f"rmse: {float(np.sqrt(np.mean(error**2))):.6g}")
        print(f"mae: {float(np.mean(np.abs(error))):.6g}")
        if args.report:
            from sklearn.metrics import r2_score

            print(f"r2: {r2_score(y_test, predictions.astype(np.float64)):.6g}")
            print(f"max error: {float(np.max(np.abs(error))):.6g}")
    return 0


def _check_format(flag: str, path: str, suffixes) -> None:
    if Path(path).suffix.lower() not in suffixes:
        raise UsageError(f"{flag} {path}: unsupported format; use one of {', '.join(suffixes)}")


def _check_model_output(path: str) -> None:
    """--out of fit and evaluate is the model file: a table's name there (model.csv) is a
    mix-up with the embeddings or predictions, said before the fit rather than after it."""
    from tsea.cli.embed_io import EMBED_SUFFIXES, PREDICT_SUFFIXES

    not_a_directory("--out", path, "model file", "model.tsea")
    suffix = Path(path).suffix.lower()
    if suffix in {*EMBED_SUFFIXES, *PREDICT_SUFFIXES, ".tsv"}:
        raise UsageError(
            f"--out {path}: --out names the model file to write (e.g. model.tsea), but {suffix} "
            "is a table's suffix; the embeddings come from `tsea embed --model MODEL DATA -o "
            "embeddings.csv`, predictions from `tsea predict` or `tsea evaluate --predictions`")


def _check_table_output(flag: str, path: str) -> None:
    from tsea.cli.embed_io import PREDICT_SUFFIXES

    not_a_directory(flag, path, "table", "predictions.csv")
    _check_format(flag, path, PREDICT_SUFFIXES)


def _write_predictions(path: str, ids, truth, predictions) -> None:
    """The test set's table of ``tsea evaluate --predictions``: id, label, prediction."""
    import pandas as pd

    from tsea.cli.embed_io import EmbeddingWriter, as_table_column

    frame = pd.DataFrame({"label": as_table_column(np.asarray(truth)),
                          "prediction": as_table_column(np.asarray(predictions))})
    with EmbeddingWriter(path) as writer:
        writer.write_frame(frame, ids)


def _load_predictor(args, path: str):
    """The EAClassifier or EARegressor of a model file; an encoder's file is a ValueError
    saying how to make a model that predicts."""
    require_file(path, "model file")
    module = estimators(args)
    model = module.load_model(path)
    if isinstance(model, module.EAEncoder):
        raise ValueError(f"{path} holds an encoder pre-trained without labels, which embeds but "
                         "does not predict; train one that predicts with `tsea fit --head HEAD` "
                         "(or --task) on labelled data")
    return model


def _shard_pairs(args) -> list[tuple[str, str]]:
    """The (shard, output) pairs of a folder or glob INPUT, checked before any work: --output
    must be a folder (created here), and no output may be an input."""
    from tsea.cli.embed_io import shard_outputs

    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise UsageError(
            f"--output {args.output} is a file; with a folder or glob of shards as INPUT it "
            "must be a folder (one output per shard)"
        )
    pairs = shard_outputs(args.input, args.output, "." + (args.format or "parquet"))
    check_shard_outputs(pairs, args.model)
    os.makedirs(args.output, exist_ok=True)
    return pairs


def _each_shard(args, pairs, one, verb: str) -> int:
    """Run ``one(shard, output) -> (series, what was written)`` on every shard in turn."""
    start, total = time.perf_counter(), 0
    for i, (shard, out) in enumerate(pairs):
        n, written = one(shard, out)
        total += n
        info(args, f"[{i + 1}/{len(pairs)}] wrote {written} to {out}")
    seconds = time.perf_counter() - start
    info(args, f"{verb} {total} series of {len(pairs)} shards in {seconds:.1f} s")
    return 0


def cmd_predict(args) -> int:
    """Stream a file (or each shard of a folder/glob) through a classifier or regressor into
    a table of predictions; a dataset name is loaded whole, as in ``tsea embed``."""
    from tsea.cli.embed_io import EmbeddingWriter, is_shard_spec, predict_file, prediction_frame

    shards = is_shard_spec(args.input)
    check_input_options(args, shards)
    precheck(args, None if shards else args.input)
    if not shards:
        _check_table_output("--output", args.output)
    pairs = _shard_pairs(args) if shards else None
    model = _load_predictor(args, args.model)
    if args.proba and not hasattr(model, "classes_"):
        raise UsageError(f"--proba: {args.model} holds a regressor, which has no class "
                         "probabilities")
    if hasattr(model, "classes_"):
        _check_classes_print_apart(args.model, model.classes_)
    _runtime_overrides(args, model)
    from tsea.cli.io import is_file_spec

    columns = {"label_column": args.label_column, "id_column": args.id_column}
    start = time.perf_counter()
    if shards:
        def one(shard, out):
            n = predict_file(model, shard, out, proba=args.proba, progress=not args.quiet,
                             **columns)
            return n, f"{n} predictions"

        return _each_shard(args, pairs, one, "predicted")
    if is_file_spec(args.input):
        if os.path.isdir(args.input):
            raise ValueError(f"{args.input} is a directory")
        n = predict_file(model, args.input, args.output, proba=args.proba,
                         progress=not args.quiet, **columns)
    else:  # a dataset name: loaded whole (archive datasets are small)
        data = load_data(args.input, split=args.split, labels=False, **columns)
        try:
            frame = prediction_frame(model, data.X, proba=args.proba)
        except ValueError as exc:
            raise _with_ids(exc, data) from None
        with EmbeddingWriter(args.output) as writer:
            writer.write_frame(frame, data.ids)
        n = data.n_series
    seconds = time.perf_counter() - start
    info(args, f"wrote {n} predictions to {args.output} ({seconds:.1f} s)")
    return 0


def _check_classes_print_apart(path, classes) -> None:
    """A table holds labels as text: classes such as 1 and '1' (mixed labels, fitted in
    Python) would share a prediction and a ``proba_`` column name."""
    _, clashes = _texts_of(classes)
    if clashes:
        text, (first, second, *_) = next(iter(clashes.items()))
        raise ValueError(
            f"{path}: the classes {first!r} and {second!r} are both written as {text!r}, "
            "so a table of predictions could not tell them apart; refit with labels of one "
            "type, or predict in Python (tsea.load_model)"
        )


def cmd_info(args) -> int:
    import json

    from tsea.cli.info import describe_model, format_info

    require_file(args.model, "model file")
    summary = describe_model(args.model)
    print(json.dumps(summary, indent=2) if args.json else format_info(summary))
    return 0 if summary["problem"] is None else 1


def cmd_attention(args) -> int:
    from tsea.data import Collection, to_collection
    from tsea.data.csv_io import renumber_series
    from tsea.viz import figure_format, save_attention_figure

    precheck(args, args.data)
    try:  # before the model is loaded and the data read, as for `tsea embed -o`
        figure_format(args.output)
    except ValueError as exc:
        raise UsageError(f"--output {exc}") from None
    data = load_data(
        args.data, split=args.split, label_column=args.label_column, id_column=args.id_column,
        labels=False,
    )
    if not 0 <= args.index < data.n_series:
        raise ValueError(f"--index {args.index} is out of range: {data.source} has {data.n_series} series")
    encoder = _load_model(args, args.model)
    series = data.series(args.index)
    one = to_collection([series])  # with its id, so that messages can name it
    try:
        maps = encoder.attention_maps(Collection(one.X, one.lengths, data.ids[[args.index]]))[0]
    except ValueError as exc:  # the estimator saw one series, "series 0": name the real one
        raise renumber_series(exc, data.source, args.index, said_as="X") from None
    title = f"{os.path.basename(data.source)}: series {data.ids[args.index]} (index {args.index})"
    save_attention_figure(args.output, series, maps, title=title)
    info(args, f"wrote attention maps of {maps.shape[0]} layers to {args.output}")
    return 0


COMMANDS = {
    "fit": cmd_fit,
    "embed": cmd_embed,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "info": cmd_info,
    "attention": cmd_attention,
}
