from collections.abc import Iterable
from typing import Any, Optional

__version__: str

def dumps(items: Iterable[Any], /, *, max_mask_pixels: Optional[int] = None) -> bytes: ...
