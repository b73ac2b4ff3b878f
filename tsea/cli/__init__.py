"""The ``tsea`` command line: argument parsing (:mod:`.parser`), what each subcommand does
(:mod:`.commands`), the checks of its files before any work (:mod:`.checks`) and data in
and out (:mod:`.io`, :mod:`.embed_io`).

Exit status: 0 success, 1 runtime error (one line ``tsea: error: ...``; the traceback only
with ``--debug``), 2 usage error (one line naming the problem). Results go to stdout,
progress and summaries to stderr; ``--quiet`` silences progress bars and summaries.
"""

from tsea.cli.parser import main

__all__ = ["main"]
