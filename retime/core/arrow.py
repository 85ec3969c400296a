"""Arrow arrays made from their buffers. pyarrow's own constructors (`pa.array`, and `pa.table` given
numpy arrays or lists) first ask whether their input is a pandas object, which imports pandas
wherever it is installed: 0.2 s and ~50 MB in a process that never uses it, paid by every
ingest and replay. The arrays here are the same values, made without that question."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

_TYPES = {np.dtype(np.int8): pa.int8(), np.dtype(np.int16): pa.int16(), np.dtype(np.int32): pa.int32(),
          np.dtype(np.int64): pa.int64(), np.dtype(np.uint8): pa.uint8(), np.dtype(np.uint32): pa.uint32(),
          np.dtype(np.uint64): pa.uint64(), np.dtype(np.float32): pa.float32(), np.dtype(np.float64): pa.float64()}


def _validity(mask: np.ndarray | None, n: int) -> tuple[pa.Buffer | None, int]:
    """The validity bitmap of `mask` (True where a value is missing) and the count of nulls."""
    if mask is None:
        return None, 0
    valid = ~np.asarray(mask, dtype=np.bool_)
    nulls = n - int(np.count_nonzero(valid))
    return (pa.py_buffer(np.packbits(valid, bitorder="little")), nulls) if nulls else (None, 0)


def column(values: np.ndarray, mask: np.ndarray | None = None, type: pa.DataType | None = None) -> pa.Array:
    """A one-dimensional numpy array of numbers or booleans as an Arrow array (NULL where `mask` is
    True), cast to `type` when given, as pa.array(values, type, mask=mask) gives it."""
    values = np.ascontiguousarray(values)
    n = len(values)
    validity, nulls = _validity(mask, n)
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
        array = pa.Array.from_buffers(pa.bool_(), n, [validity, data], null_count=nulls)
    else:
        array = pa.Array.from_buffers(_TYPES[values.dtype], n, [validity, pa.py_buffer(values)], null_count=nulls)
    return array if type is None or array.type == type else array.cast(type)


def strings(values: Sequence[str | None]) -> pa.Array:
    """A list of texts (None for NULL) as an Arrow string array."""
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    validity, nulls = _validity(np.array([v is None for v in values], dtype=np.bool_), len(encoded))
    return pa.Array.from_buffers(pa.string(), len(encoded), [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
                                 null_count=nulls)


def numbers(values: Sequence[float | int | None], type: pa.DataType) -> pa.Array:
    """A list of numbers (None for NULL) as an Arrow array of `type` (int64 or float64)."""
    kind = np.int64 if pa.types.is_integer(type) else np.float64
    data = np.array([0 if v is None else v for v in values], dtype=kind)
    return column(data, np.array([v is None for v in values], dtype=np.bool_), type)


def table(columns: dict[str, pa.Array | np.ndarray]) -> pa.Table:
    """Named columns (Arrow arrays, or numpy arrays of numbers or booleans) as an Arrow table."""
    arrays = [c if isinstance(c, (pa.Array, pa.ChunkedArray)) else column(c) for c in columns.values()]
    return pa.Table.from_arrays(arrays, names=list(columns))


_NUMPY = {pa_type: np_type for np_type, pa_type in _TYPES.items()}


def one_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one array (ChunkedArray.combine_chunks of no chunks goes through pa.array)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    if column.num_chunks == 0:
        return pa.nulls(0, column.type)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def valid(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where a column holds a value (not NULL), as a numpy boolean array."""
    if isinstance(column, pa.ChunkedArray):
        return _joined([valid(chunk) for chunk in column.chunks], np.dtype(np.bool_))
    if column.null_count == 0:
        return np.ones(len(column), np.bool_)
    return _bits(column.buffers()[0], column.offset, len(column))


def to_numpy(column: pa.Array | pa.ChunkedArray, dtype=None, fill=0) -> np.ndarray:
    """A column of numbers or booleans as a numpy array of `dtype` (default: the column's own),
    NULL read as `fill`. A column of one chunk without NULLs is read in place (read-only); chunks
    are joined in numpy, never in Arrow first."""
    if isinstance(column, pa.ChunkedArray):
        kind = np.dtype(dtype) if dtype is not None else np.dtype(_NUMPY.get(column.type, np.bool_))
        return _joined([to_numpy(chunk, dtype, fill) for chunk in column.chunks], kind)
    n = len(column)
    if pa.types.is_boolean(column.type):
        values = _bits(column.buffers()[1], column.offset, n)
    else:
        kind = _NUMPY[column.type]
        data = column.buffers()[1]
        values = np.frombuffer(data, kind, count=n, offset=column.offset * kind.itemsize) if n else np.zeros(0, kind)
    if column.null_count:
        values = np.where(valid(column), values, np.asarray(fill, values.dtype))
    return values if dtype is None else np.asarray(values, dtype)


def _joined(parts: list[np.ndarray], kind: np.dtype) -> np.ndarray:
    if not parts:
        return np.zeros(0, kind)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _bits(buffer: pa.Buffer | None, offset: int, n: int) -> np.ndarray:
    if n == 0 or buffer is None:
        return np.zeros(n, np.bool_)
    return np.unpackbits(np.frombuffer(buffer, np.uint8), bitorder="little")[offset: offset + n].astype(np.bool_)

