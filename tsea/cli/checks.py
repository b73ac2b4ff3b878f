"""Checks of the command line's files before any work starts: inputs exist, outputs can be
written and never overwrite an input (:func:`precheck`)."""

from __future__ import annotations

import os

from tsea.utils import check_output_dir


class UsageError(Exception):
    """A bad combination of arguments found after parsing: exit status 2."""


def require_file(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(2, f"{what} not found", path)


def same_file(a, b) -> bool:
    """True when paths ``a`` and ``b`` name one file: the same resolved real path (symbolic
    links followed, whether or not the file exists yet) or, for existing files, the same
    inode (hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


# The arguments that name files a command reads, and those that name files it writes.
_INPUT_ARGS = (("input", "INPUT"), ("data", "--data"), ("test", "--test"), ("model", "--model"),
               ("config", "--config"), ("resume", "--resume"))
_OUTPUT_ARGS = (("out", "--out"), ("output", "--output"), ("predictions", "--predictions"))


def check_outputs_are_not_inputs(args) -> None:
    """UsageError naming both when an output of this run is one of its input files (compared
    with :func:`same_file`), so that no run overwrites its own data, model or config."""
    from tsea.cli.io import is_file_spec
    from tsea.config import resolve_config_path

    inputs = []
    for attr, flag in _INPUT_ARGS:
        value = getattr(args, attr, None)
        if value is None:
            continue
        if attr == "config":
            value = str(resolve_config_path(value))
        elif attr in ("input", "data", "test") and not is_file_spec(value):
            continue  # a dataset name, not a file
        inputs.append((flag, value))
    written = []
    for attr, flag in _OUTPUT_ARGS:
        out = getattr(args, attr, None)
        if out is not None:
            written.append((flag, out))
            if getattr(args, "command", None) == "embed" and out.lower().endswith(".npy"):
                written.append((f"the ids file of {flag}", _ids_path(out)))
    _refuse_overwrites(written, inputs, "output")
    for i, (flag, path) in enumerate(written):
        for other, second in written[i + 1:]:
            if same_file(path, second):
                raise UsageError(f"{flag} {path} and {other} {second} name the same file; give "
                                 "each output its own")


def not_a_directory(flag: str, path: str, what: str, example: str) -> None:
    """UsageError when the file output ``path`` of ``flag`` is an existing directory (said
    before the work, not when its result is written), suggesting ``path/example``."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a directory; give the {what} to write, e.g. "
                         f"{os.path.join(path, example)}")


def check_shard_outputs(pairs, model: str) -> None:
    """UsageError when a shard's output (or its .ids.txt) is one of the run's inputs: a shard
    or the model (:func:`same_file`), as :func:`check_outputs_are_not_inputs` for one file."""
    inputs = [("--model", model)] + [("shard", shard) for shard, _ in pairs]
    written = []
    for _, out in pairs:
        written.append(("the output", out))
        if out.lower().endswith(".npy"):
            written.append(("the output", _ids_path(out)))
    _refuse_overwrites(written, inputs, "outputs")


def _ids_path(npy_path: str) -> str:
    from tsea.cli.embed_io import ids_path_for

    return ids_path_for(npy_path)


def _refuse_overwrites(written, inputs, noun: str) -> None:
    """UsageError naming both files when a ``(label, path)`` of ``written`` is an input."""
    for what, path in written:
        for flag, src in inputs:
            if same_file(path, src):
                raise UsageError(
                    f"{what} {path} is the same file as {flag} {src}; write the {noun} "
                    "elsewhere (a run never overwrites its own input)"
                )


def precheck(args, *data_specs: str | None) -> None:
    """Fail fast, before torch and Lightning are imported (seconds): --set syntax, the config
    file or preset, data files, output directories, and outputs that would overwrite an input."""
    from tsea.cli.io import is_file_spec
    from tsea.config import parse_override, resolve_config_path

    for text in getattr(args, "set", None) or ():
        parse_override(text)
    if getattr(args, "config", None) is not None:
        resolve_config_path(args.config)
    check_outputs_are_not_inputs(args)
    model = getattr(args, "model", None)
    if model is not None:
        require_file(model, "model file")
    if getattr(args, "resume", None) is not None:
        require_file(args.resume, "checkpoint")
    for spec in data_specs:
        if spec is not None and is_file_spec(spec):
            require_file(spec, "data file")
            if getattr(args, "split", None) is not None:
                raise UsageError(f"--split picks a split of a named dataset; {spec} is a file "
                                 "(give the split's own file instead)")
    for attr, _ in _OUTPUT_ARGS:
        if getattr(args, attr, None) is not None:
            check_output_dir(getattr(args, attr))


def check_input_options(args, shards: bool) -> None:
    """Options that the input would ignore are refused: ``--format`` is the format of each
    shard's output (one file's is its suffix), ``--split`` is for named datasets."""
    if args.split is not None and shards:
        raise UsageError(f"--split picks a split of a named dataset; {args.input} names files")
    if args.format is not None and not shards:
        raise UsageError(f"--format sets the format of each shard's output; {args.input} is "
                         f"one input, whose output format is the suffix of --output "
                         f"({args.output})")
