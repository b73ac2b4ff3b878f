"""The ``tsea`` command line: argument parsing (:mod:`.parser`), what each subcommand does
(:mod:`.commands`) and data in and out (:mod:`.io`).

Exit status: 0 success, 1 runtime error (one line ``tsea: error: ...``; the traceback only
with ``--debug``), 2 usage error (one line naming the problem). Results go to stdout,
progress and summaries to stderr; ``--quiet`` silences progress bars and summaries.
"""

from tsea.cli.parser import main

__all__ = ["main"]
