"""Checkpoints: ``minigrad.save(obj, path)`` and ``minigrad.load(path)``.

A checkpoint is one ``.npz`` file (a zip of ``.npy`` arrays) holding every array plus one
entry, ``__minigrad__.npy``, with JSON text describing how the arrays nest inside dicts,
lists and tuples. Nothing is pickled, so loading a file cannot run code
(``np.load(allow_pickle=False)``). What can be saved: dict (str or int keys), list, tuple,
numpy arrays, Tensors (loaded back as Tensors, without graph or grad), bool, int, float
(including nan/inf), str and None: enough for model and optimizer state dicts.

Writes are atomic: the file is written to a temporary file in the same directory, flushed
to disk (fsync) and renamed over ``path`` with ``os.replace``, so a crash mid-save leaves the
previous checkpoint as it was.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from .atomic import atomic_write
from .tensor import Tensor

FORMAT = "minigrad-checkpoint"
VERSION = 1
_META = "__minigrad__"


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupted or not a minigrad checkpoint."""


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """JSON description of ``obj``; arrays go to ``arrays`` under generated names."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return {"int": str(obj)}
    if isinstance(obj, float):
        return {"float": repr(obj)} if not math.isfinite(obj) else obj
    if isinstance(obj, np.generic):
        return _encode(obj.item(), arrays, where)
    if isinstance(obj, Tensor | np.ndarray):
        arr = obj.data if isinstance(obj, Tensor) else obj
        if arr.dtype.kind not in "biuf":
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
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": items}
    if isinstance(obj, list | tuple):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"minigrad.save: cannot save a {type(obj).__name__} at {where}; supported are "
                    f"dict, list, tuple, Tensor, numpy array, int, float, bool, str and None")


def _decode(node: Any, arrays: Any) -> Any:
    if node is None or isinstance(node, bool | str | float | int):
        return node
    (kind, value), = node.items()
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "ndarray":
        return arrays[value]
    if kind == "tensor":
        return Tensor._make(arrays[value])
    if kind == "dict":
        return OrderedDict((k, _decode(v, arrays)) for k, v in value)
    if kind == "list":
        return [_decode(v, arrays) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in value)
    raise ValueError(f"unknown entry kind {kind!r}")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (e.g. ``model.state_dict()``) to ``path`` as a checkpoint, atomically."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[_META] = np.array(meta)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write(path, buf.getvalue())


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by ``minigrad.save``; arrays come back fully in memory.

    A missing, truncated, corrupted or foreign file raises ``CheckpointError`` naming the
    path and the problem.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"minigrad.load: no such file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if f"{_META}.npy" not in npz.zip.namelist():
                raise CheckpointError(f"minigrad.load: {path!r} is a .npz file but not a minigrad "
                                      f"checkpoint (no {_META} entry); was it written by "
                                      f"minigrad.save?")
            meta = json.loads(str(npz[_META]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError(f"minigrad.load: {path!r} has an unknown header; it is not a "
                                      f"minigrad checkpoint")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"minigrad.load: {path!r} has checkpoint version "
                                      f"{meta.get('version')!r}; this minigrad reads version "
                                      f"{VERSION}")
            arrays = {name: npz[name] for name in npz.files if name != _META}
            return _decode(meta["tree"], arrays)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, TypeError,
            AttributeError) as e:
        raise CheckpointError(f"minigrad.load: {path!r} is truncated, corrupted or not a "
                              f"minigrad checkpoint ({type(e).__name__}: {e})") from e
