"""tsea.data: input conversion and validation (the one internal form), file readers.

Never imports torch.
"""

from .checks import check_same_channels, check_y
from .collection import Collection
from .convert import to_collection

__all__ = ["Collection", "to_collection", "check_same_channels", "check_y"]
