"""A block of input lines as one Arrow string array, without a Python object per line: the
array's offsets are the newline positions (found by numpy) and its data is the block itself.
Used by destinations that load Arrow (DuckDB), so the reading loop does no per-record work."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def split_block(block: bytes) -> tuple[Any, Any]:
    """(array of the block's lines, offsets: line i is block[offsets[i]:offsets[i + 1]]). Each
    value but the last keeps its newline: JSON parsers read it as the whitespace it is."""
    ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    offsets = np.empty(len(ends) + 2, np.int32)  # a block is at most a few MiB
    offsets[0] = 0
    offsets[1:-1] = ends + 1
    offsets[-1] = len(block)
    array = pa.Array.from_buffers(
        pa.string(), len(ends) + 1, [None, pa.py_buffer(offsets), pa.py_buffer(block)]
    )
    return array, offsets


def lines_without(block: bytes, offsets: Any, prefix: bytes) -> list[int]:
    """Indexes of the lines that do not start with `prefix`, in order."""
    count = len(offsets) - 1
    if block.startswith(prefix) and block.count(b"\n" + prefix) == count - 1:
        return []  # the common block: every line is one
    padded = np.frombuffer(block + bytes(len(prefix)), np.uint8)
    heads = padded[offsets[:-1, None] + np.arange(len(prefix))]
    matches = (heads == np.frombuffer(prefix, np.uint8)).all(axis=1)
    return [int(i) for i in np.flatnonzero(~matches)]


def line_at(block: bytes, offsets: Any, index: int) -> bytes:
    return block[offsets[index] : offsets[index + 1]].removesuffix(b"\n")


def lines_array(lines: list[bytes]) -> Any:
    """Lines (bytes) as an Arrow string array; viewed as text unchecked: the JSON parser that
    reads them refuses invalid UTF-8."""
    return pa.array(lines, type=pa.binary()).view(pa.string())
