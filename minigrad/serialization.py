"""Checkpoints: ``minigrad.save(obj, path)`` and ``minigrad.load(path)``.

A checkpoint is one ``.npz`` file (a zip of ``.npy`` arrays) holding every array plus one
entry, ``__minigrad__.npy``, with JSON text describing how the arrays nest inside dicts,
lists and tuples. Nothing is pickled, so loading a file cannot run code. What can be saved:
dict (str or int keys), list, tuple, numpy arrays, Tensors (loaded back as Tensors, without
graph or grad), bool, int, float (including nan/inf), str and None, nested at most
``MAX_DEPTH`` levels: enough for model and optimizer state dicts.

Writes are atomic: the file is written to a temporary file in the same directory, flushed
to disk (fsync) and renamed over ``path`` with ``os.replace``, so a crash mid-save leaves the
previous checkpoint as it was.

Reading trusts nothing in the file. Any failure (not a zip, truncated, a bad CRC, an
encrypted or oddly compressed member, a bad ``.npy`` header, an array whose header promises
more bytes than the member holds, bad JSON, nesting deeper than ``MAX_DEPTH``, a reference to
a missing array) raises ``CheckpointError`` naming the file and the problem. Memory is bounded
by the file: ``minigrad.save`` stores members uncompressed, and the bytes that decompressing
(deflated) members may produce are capped by ``max_inflated_bytes`` (default
``MAX_INFLATED_BYTES``, 256 MiB), so a small "zip bomb" cannot expand into gigabytes; pass a
larger cap to ``load`` (or raise ``MAX_INFLATED_BYTES``) for a big compressed checkpoint you
trust.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from .atomic import atomic_write
from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_META = "__minigrad__"
MAX_DEPTH = 100
MAX_INFLATED_BYTES = 256 * 2**20
_CHUNK = 2**20
_ARRAY_KINDS = "biuf"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupted or not a minigrad checkpoint."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """There is no checkpoint file at the path (also a ``FileNotFoundError``)."""


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str, depth: int = 0) -> Any:
    """JSON description of ``obj``; arrays go to ``arrays`` under generated names."""
    if depth > MAX_DEPTH:
        raise ValueError(f"minigrad.save: {where} is nested more than {MAX_DEPTH} levels deep (or contains "
                         "itself); minigrad.load would refuse it")
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return {"int": str(obj)}
    if isinstance(obj, float):
        return {"float": repr(obj)} if not math.isfinite(obj) else obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, where, depth)
    if isinstance(obj, Tensor | np.ndarray):
        arr = obj.data if isinstance(obj, Tensor) else obj
        if arr.dtype.kind not in _ARRAY_KINDS or arr.dtype.fields is not None:
            raise TypeError(f"minigrad.save: cannot save the {arr.dtype} array at {where}; only "
                            f"numeric and bool arrays are supported")
        name = f"a{len(arrays)}"
        arrays[name] = arr
        return {"tensor" if isinstance(obj, Tensor) else "ndarray": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(f"minigrad.save: dict key {key!r} at {where} is a "
                                f"{type(key).__name__}; only str and int keys are supported")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]", depth + 1)])
        return {"dict": items}
    if isinstance(obj, list | tuple):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]}
    raise TypeError(f"minigrad.save: cannot save a {type(obj).__name__} at {where}; supported are "
                    f"dict, list, tuple, Tensor, numpy array, int, float, bool, str and None")


class _Corrupt(Exception):
    """What is wrong with a checkpoint; ``load`` turns it into a ``CheckpointError`` naming the file."""


def _corrupt(message: str) -> NoReturn:
    raise _Corrupt(message)


def _decode(node: Any, array: Callable[[str], np.ndarray], depth: int = 0) -> Any:
    """The object that the JSON ``node`` describes; ``array(name)`` reads a member."""
    if depth > MAX_DEPTH:
        _corrupt(f"its structure is nested more than {MAX_DEPTH} levels deep")
    if node is None or isinstance(node, bool | str | float | int):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        _corrupt(f"unexpected entry {node!r:.80} in its structure")
    (kind, value), = node.items()
    if kind in ("int", "float", "ndarray", "tensor") and not isinstance(value, str):
        _corrupt(f"a {kind!r} entry holds {value!r:.80}, not a string")
    if kind in ("dict", "list", "tuple") and not isinstance(value, list):
        _corrupt(f"a {kind!r} entry holds {value!r:.80}, not a list")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "ndarray":
        return array(value)
    if kind == "tensor":
        return Tensor.make(array(value))
    if kind == "dict":
        items = OrderedDict()
        for item in value:
            if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                    or not isinstance(item[0], str | int)):
                _corrupt(f"a dict item is {item!r:.80}, not a [str or int key, value] pair")
            items[item[0]] = _decode(item[1], array, depth + 1)
        return items
    if kind == "list":
        return [_decode(v, array, depth + 1) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, array, depth + 1) for v in value)
    _corrupt(f"unknown entry kind {kind!r:.80} in its structure")


def _check_members(archive: zipfile.ZipFile, path: str, max_inflated_bytes: int) -> None:
    """Refuse duplicate, encrypted and oddly compressed members, members whose data add up to
    more than the file (overlapping entries: many members reading the same bytes), and deflated
    members whose declared sizes add up to more than ``max_inflated_bytes``. Reading never
    returns more than a member declares (zipfile stops there; the CRC check then fails)."""
    infos = archive.infolist()
    if len({info.filename for info in infos}) != len(infos):
        _corrupt("its zip directory lists a member twice")
    stored = sum(info.compress_size for info in infos)
    if stored > os.path.getsize(path):
        _corrupt(f"its members claim {stored} bytes of data, more than the file's {os.path.getsize(path)} "
                 "(overlapping or truncated members)")
    inflated = 0
    for info in infos:
        if info.flag_bits & 0x1:
            _corrupt(f"member {info.filename!r} is encrypted")
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflated += info.file_size
        elif info.compress_type != zipfile.ZIP_STORED:
            _corrupt(f"member {info.filename!r} uses zip compression method {info.compress_type}; only "
                     "stored and deflated members (np.savez, np.savez_compressed) are read")
        elif info.file_size != info.compress_size:
            _corrupt(f"member {info.filename!r} is stored uncompressed but declares {info.file_size} "
                     f"bytes in {info.compress_size}")
    if inflated > max_inflated_bytes:
        raise CheckpointError(f"minigrad.load: {path!r}: its compressed members would inflate to "
                              f"{inflated} bytes, more than max_inflated_bytes={max_inflated_bytes}; pass a "
                              "larger max_inflated_bytes to minigrad.load if you trust this file")


def _read_member(archive: zipfile.ZipFile, name: str) -> bytearray:
    """The bytes of member ``name``, read in bounded chunks (zipfile inflates at most about
    a chunk per call; a single read() could inflate a whole bomb at once)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        _corrupt(f"its structure refers to array {name.removesuffix('.npy')!r}, which the file does not "
                 "contain")
    data = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            data += chunk
    if len(data) != info.file_size:
        _corrupt(f"member {name!r} holds {len(data)} bytes but declares {info.file_size}")
    return data


def _parse_npy(name: str, data: bytearray, kinds: str) -> np.ndarray:
    """The array in ``.npy`` bytes, after checking its header: a dtype of one of ``kinds``, and
    exactly as many data bytes as the shape needs (before anything is allocated)."""
    head = io.BytesIO(bytes(data[:70_000]))  # the header is at most 65535 + 10 bytes (v1) or 10000 (v2)
    version = np.lib.format.read_magic(head)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(head)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(head)
    else:
        _corrupt(f"array {name!r} has .npy format version {version}; 1.0 and 2.0 are read")
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        _corrupt(f"array {name!r} has dtype {dtype}; checkpoints hold numeric and bool arrays only")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        _corrupt(f"array {name!r} has shape {shape!r}")
    count = math.prod(shape)
    offset = head.tell()
    if count * dtype.itemsize != len(data) - offset:
        _corrupt(f"array {name!r} has shape {shape} of {dtype} ({count * dtype.itemsize} bytes) but its "
                 f"member holds {len(data) - offset} data bytes")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return np.array(flat.reshape(shape, order="F" if fortran else "C"), dtype=dtype.newbyteorder("="),
                    order="C")


def _read(path: str, max_inflated_bytes: int) -> Any:
    with zipfile.ZipFile(path) as archive:
        _check_members(archive, path, max_inflated_bytes)
        if f"{_META}.npy" not in archive.namelist():
            raise CheckpointError(f"minigrad.load: {path!r} is a .npz file but not a minigrad checkpoint "
                                  f"(no {_META} entry); was it written by minigrad.save?")
        meta_array = _parse_npy(_META, _read_member(archive, f"{_META}.npy"), "U")
        if meta_array.shape != ():
            _corrupt(f"its {_META} entry has shape {meta_array.shape}, not a single string")
        meta = json.loads(str(meta_array[()]))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"minigrad.load: {path!r} has an unknown header; it is not a "
                                  f"minigrad checkpoint")
        if meta.get("version") != VERSION:
            raise CheckpointError(f"minigrad.load: {path!r} has checkpoint version "
                                  f"{meta.get('version')!r:.40}; this minigrad reads version {VERSION}")
        if "tree" not in meta:
            _corrupt(f"its {_META} entry has no 'tree'")
        cache: dict[str, np.ndarray] = {}

        def array(name: str) -> np.ndarray:
            if name == _META:
                _corrupt(f"its structure refers to the {_META} entry as an array")
            if name not in cache:
                cache[name] = _parse_npy(name, _read_member(archive, f"{name}.npy"), _ARRAY_KINDS)
            return cache[name]

        return _decode(meta["tree"], array)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()``) to ``path`` as a checkpoint, atomically."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[_META] = np.array(meta)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write(path, buf.getvalue())


def load(path: str | os.PathLike, *, max_inflated_bytes: int | None = None) -> Any:
    """Read a checkpoint written by ``minigrad.save``; arrays come back fully in memory.

    Every failure to read it raises ``CheckpointError`` naming the path and the problem:
    missing (``CheckpointNotFoundError``, also a ``FileNotFoundError``), truncated, corrupted,
    foreign, or deflated members inflating to more than ``max_inflated_bytes`` (default: the
    module's ``MAX_INFLATED_BYTES``, which code that cannot pass the argument may change).
    Arrays come back C-contiguous, in native byte order.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointNotFoundError(f"minigrad.load: no such file: {path!r}")
    try:
        return _read(path, MAX_INFLATED_BYTES if max_inflated_bytes is None else max_inflated_bytes)
    except CheckpointError:
        raise
    except _Corrupt as e:
        raise CheckpointError(f"minigrad.load: {path!r} is truncated, corrupted or not a minigrad "
                              f"checkpoint: {e}") from None
    except Exception as e:  # whatever else a damaged file makes zipfile, numpy or json raise
        raise CheckpointError(f"minigrad.load: {path!r} is truncated, corrupted or not a minigrad "
                              f"checkpoint ({type(e).__name__}: {e})") from e
