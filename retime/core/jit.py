"""Whether a numba pass would run without compiling first: compiled in this process, or held in
numba's cache on disk (its index file). Where it would compile, a small input goes the way that
needs no compile (DuckDB's JSON reader, the replay graph's SQL), which gives the same answer."""
from __future__ import annotations

from pathlib import Path


def compiled(kernel) -> bool:
    """Whether `kernel` (a numba dispatcher with cache=True) is compiled here or cached on disk."""
    if kernel.signatures:
        return True
    try:
        return Path(kernel._cache._cache_file._index_path).exists()
    except AttributeError:  # a numba that keeps its cache otherwise: take it as not compiled
        return False
