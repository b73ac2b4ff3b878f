"""tsea.data: input conversion and validation (the one internal form), file readers.

Never imports torch (aeon is imported only when an archive file is read).
"""

from .checks import check_y
from .collection import Collection
from .convert import to_collection
from .csv_io import write_csv_long, write_csv_wide
from .readers import read_file

__all__ = [
    "Collection",
    "to_collection",
    "check_y",
    "read_file",
    "write_csv_wide",
    "write_csv_long",
]
