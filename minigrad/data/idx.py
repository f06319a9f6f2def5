"""The IDX file format (MNIST's): a tiny header, then one big-endian array.

Layout: two zero bytes, a type code, the number of dimensions ``ndim``; then ``ndim``
big-endian uint32 sizes; then ``prod(sizes)`` items of the coded type, big-endian.
``train-images-idx3-ubyte`` starts ``00 00 08 03`` (uint8, 3 dims: N, 28, 28).
Files may be gzip-compressed (recognised by content, not by name).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..atomic import atomic_write

_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
    """An IDX file that cannot be read: the message names the file and what is wrong."""


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise IdxError(f"read_idx: cannot read {path}: {e.strerror or e}") from e
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise IdxError(f"read_idx: {path} is a damaged or truncated gzip file ({e}); "
                       f"delete it and fetch it again") from e


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian numpy array."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IdxError(f"read_idx: {path} is truncated: {len(raw)} bytes, shorter than the 4-byte header")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in _CODES:
        raise IdxError(f"read_idx: {path} has a bad magic number 0x{raw[:4].hex()}: not an IDX file "
                       f"(expected 0x0000 then a type code in "
                       f"{', '.join(hex(c) for c in _CODES)} and the number of dimensions)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IdxError(f"read_idx: {path} is truncated inside its header ({len(raw)} of {header} bytes)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _CODES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        problem = "truncated" if got < expected else "longer than its header says"
        raise IdxError(f"read_idx: {path} is {problem}: shape {shape} of {dtype.name} needs "
                       f"{expected} data bytes, found {got}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    Atomic: the bytes go to a temporary file in the same folder, renamed into place
    only when complete, so a crash never leaves a half-written file under ``path``.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in _CODES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise IdxError(f"write_idx: IDX cannot store dtype {array.dtype} (supported: uint8, int8, "
                       f"int16, int32, float32, float64); convert the array first")
    if array.ndim > 255:
        raise IdxError(f"write_idx: IDX stores at most 255 dimensions, got {array.ndim}")
    body = (bytes([0, 0, codes[native], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            + np.ascontiguousarray(array, dtype=_CODES[codes[native]]).tobytes())
    if path.suffix == ".gz":
        body = gzip.compress(body, compresslevel=6, mtime=0)
    atomic_write(path, body)
