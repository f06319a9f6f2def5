"""Issue 16 (B15): a corrupted checkpoint raises CheckpointError, never anything else.

A battery of damaged files: seeded byte flips and every truncation of a real checkpoint,
zip bombs, lying zip directories, bad .npy headers, deep nesting and wrong member types.
Each must load correctly or raise ``CheckpointError`` naming the file; memory stays bounded
by the file's size plus the documented ``max_inflated_bytes`` cap.
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim, serialization
from minigrad.serialization import MAX_DEPTH, CheckpointError


def _checkpoint() -> dict:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(mg.randn(5, 4)).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3, "name": "run",
            "history": [0.5, float("nan")], "pair": (1, None)}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[bytes, dict]:  # noqa: ANN001
    path = tmp_path_factory.mktemp("good") / "good.npz"
    obj = _checkpoint()
    mg.save(obj, path)
    return path.read_bytes(), mg.load(path)


def _equal(a, b) -> bool:  # noqa: ANN001
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, mg.Tensor | np.ndarray):
        a, b = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return type(a) is type(b) and a == b


def _load_or_checkpoint_error(path, expected) -> str:  # noqa: ANN001
    """Load ``path``: it must give ``expected`` or raise CheckpointError naming the file."""
    try:
        loaded = mg.load(path)
    except CheckpointError as e:
        assert str(path) in str(e)
        return "error"
    assert _equal(loaded, expected), "a damaged file loaded as something else"
    return "loaded"


def test_the_good_checkpoint_loads(good, tmp_path) -> None:  # noqa: ANN001
    data, expected = good
    path = tmp_path / "copy.npz"
    path.write_bytes(data)
    assert _load_or_checkpoint_error(path, expected) == "loaded"
    assert _equal(expected, mg.load(path)) and not _equal(expected, {**expected, "epoch": 4})


@pytest.mark.parametrize("seed", range(300))
def test_seeded_byte_flips(good, tmp_path, seed) -> None:  # noqa: ANN001
    data, expected = good
    rng = np.random.default_rng(seed)
    damaged = bytearray(data)
    for pos in rng.integers(0, len(data), size=rng.integers(1, 5)):
        damaged[pos] ^= int(rng.integers(1, 256))
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(damaged))
    _load_or_checkpoint_error(path, expected)


def test_truncations(good, tmp_path) -> None:  # noqa: ANN001
    """Every 7th length, and every length that cuts into the zip directory at the end."""
    data, expected = good
    path = tmp_path / "truncated.npz"
    for length in sorted(set(range(0, len(data), 7)) | set(range(len(data) - 400, len(data)))):
        path.write_bytes(data[:length])
        assert _load_or_checkpoint_error(path, expected) == "error", length


# ---------------------------------------------------------------- hand-made files
def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(header: str, data: bytes = b"") -> bytes:
    """A version 1.0 .npy member with any header text."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def _meta(tree, **extra) -> bytes:  # noqa: ANN001
    return _npy(np.array(json.dumps({"format": "minigrad-checkpoint", "version": 1, "tree": tree, **extra})))


def _zip(path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:  # noqa: ANN001
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, content in members.items():
            z.writestr(name, content)


def _patch_central(path, name: str, **fields: int) -> None:  # noqa: ANN001
    """Overwrite fields of ``name``'s central directory entry (and nothing else)."""
    data = bytearray(path.read_bytes())
    offsets = {"flags": 8, "method": 10, "compress_size": 20, "file_size": 24}
    pos = struct.unpack_from("<I", data, len(data) - 22 + 16)[0]  # from the end-of-directory record
    while True:
        assert data[pos:pos + 4] == b"PK\x01\x02"
        name_len, extra, comment = struct.unpack_from("<HHH", data, pos + 28)
        if data[pos + 46:pos + 46 + name_len] == name.encode():
            break
        pos += 46 + name_len + extra + comment
    for field, value in fields.items():
        size = 2 if field in ("flags", "method") else 4
        data[pos + offsets[field]:pos + offsets[field] + size] = value.to_bytes(size, "little")
    path.write_bytes(bytes(data))


GOOD_ARRAY = _npy(np.arange(6.0))
META = "__minigrad__.npy"
F8 = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }"


def _with(member: bytes, tree: dict | None = None) -> dict[str, bytes]:
    """A checkpoint whose structure is ``tree`` (one array, a0) and whose a0 is ``member``."""
    return {META: _meta({"ndarray": "a0"} if tree is None else tree), "a0.npy": member}


def _meta_text(text: str) -> dict[str, bytes]:
    return {META: _npy(np.array(text))}


HAND_MADE = {
    "json is not json": _meta_text("{not json"),
    "json is a list": _meta_text("[1, 2]"),
    "meta is a float array": {META: _npy(np.arange(3.0))},
    "meta is two strings": {META: _npy(np.array(["{}", "{}"]))},
    "meta is pickled": {META: _npy(np.array([{"format": 1}], dtype=object))},
    "meta has no tree": _meta_text('{"format": "minigrad-checkpoint", "version": 1}'),
    "version is a string": _meta_text('{"format": "minigrad-checkpoint", "version": "1"}'),
    "object array member": _with(_npy(np.array([None, 1], dtype=object))),
    "structured array member": _with(_npy(np.zeros(2, dtype=[("x", "<f8"), ("y", "<i4")]))),
    "complex array member": _with(_npy(np.ones(2, complex))),
    "string array member": _with(_npy(np.array(["x"])), {"tensor": "a0"}),
    "missing array": _with(GOOD_ARRAY, {"ndarray": "a9"}),
    "meta as an array": _with(GOOD_ARRAY, {"ndarray": "__minigrad__"}),
    "header promises a huge shape": _with(_npy_header(F8 % "(1000000000,)", bytes(64))),
    "header promises a gigantic shape": _with(_npy_header(F8 % "(10**40,)")),
    "header with a negative shape": _with(_npy_header(F8 % "(-1,)")),
    "header with a float shape": _with(_npy_header(F8 % "(2.5,)")),
    "header too short for its data": _with(GOOD_ARRAY[:-8]),
    "header with extra data": _with(GOOD_ARRAY + bytes(8)),
    "header that tokenize chokes on": _with(_npy_header("{'descr': '''<f8")),
    "header deeply nested": _with(_npy_header("(" * 3000 + ")" * 3000)),
    "header not a dict": _with(_npy_header("[1, 2]")),
    "bad magic": {META: b"\x93NUMPX\x01\x00" + GOOD_ARRAY[8:]},
    "npy version 9": {META: b"\x93NUMPY\x09\x00" + GOOD_ARRAY[8:]},
    "empty member": {META: b""},
}
BAD_TREES = [
    {"int": 5}, {"int": "abc"}, {"int": "9" * 5000}, {"float": ["x"]}, {"float": "abc"},
    {"dict": "abc"}, {"dict": [[["unhashable"], 1]]}, {"dict": [[True, 1]]}, {"dict": [[1.5, 1]]},
    {"dict": [["k"]]}, {"dict": [5]}, {"list": 3}, {"tuple": {"a": 1}}, {"ndarray": 3}, {"tensor": None},
    {"weird": 1}, {}, {"list": [], "tuple": []}, [1, 2], {"list": [{"int": None}]},
]
for i, tree in enumerate(BAD_TREES):
    HAND_MADE[f"bad tree {i}: {json.dumps(tree)[:40]}"] = _with(GOOD_ARRAY, tree)


@pytest.mark.parametrize("name", list(HAND_MADE))
def test_hand_made_bad_files(name, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.npz"
    _zip(path, HAND_MADE[name])
    with pytest.raises(CheckpointError, match="minigrad.load: .*bad.npz"):
        mg.load(path)


def _nested(depth: int) -> dict:
    tree: dict = {"int": "1"}
    for _ in range(depth):
        tree = {"list": [tree]}
    return tree


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 400, 100_000])
def test_deep_nesting_is_refused(depth, tmp_path) -> None:  # noqa: ANN001
    """100_000 levels made json raise RecursionError; a few hundred are parsed, then refused."""
    path = tmp_path / "deep.npz"
    text = '{"list": [' * depth + '{"int": "1"}' + "]}" * depth
    _zip(path, _meta_text('{"format": "minigrad-checkpoint", "version": 1, "tree": ' + text + "}"))
    with pytest.raises(CheckpointError, match="nested more than 100 levels|RecursionError"):
        mg.load(path)


def test_saving_refuses_what_loading_would_refuse(tmp_path) -> None:  # noqa: ANN001
    obj: object = 1
    for _ in range(MAX_DEPTH):
        obj = [obj]  # MAX_DEPTH lists around an int: the deepest that loads
    path = tmp_path / "deep.npz"
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        mg.save([obj], path)
    mg.save(obj, path)
    assert mg.load(path) == obj
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="or contains itself"):
        mg.save(loop, path)


def test_encrypted_and_unknown_compression_members(tmp_path) -> None:  # noqa: ANN001
    """zipfile raised RuntimeError ("encrypted") and NotImplementedError ("compression method")."""
    for field, value, match in [("flags", 0x1, "is encrypted"), ("method", 99, "compression method 99"),
                                ("method", zipfile.ZIP_BZIP2, "compression method 12")]:
        path = tmp_path / f"{field}{value}.npz"
        mg.save({"w": np.ones(3)}, path)
        _patch_central(path, "a0.npy", **{field: value})
        with pytest.raises(CheckpointError, match=match):
            mg.load(path)


def test_lying_sizes_in_the_zip_directory(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "lying.npz"
    for fields, match in [(dict(compress_size=10**9, file_size=10**9), "more than the file's"),
                          (dict(file_size=5), "stored uncompressed but declares 5 bytes"),
                          (dict(compress_size=8, file_size=8), "Bad CRC|holds|truncated")]:
        mg.save({"w": np.ones(3)}, path)
        _patch_central(path, "a0.npy", **fields)
        with pytest.raises(CheckpointError, match=match):
            mg.load(path)


def _bomb(path, inflated: int, declared: int | None = None) -> None:  # noqa: ANN001
    """A deflated member of ``inflated`` zero bytes (an .npy of uint8 zeros), whose directory
    entries may declare another size."""
    header = _npy_header(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({inflated},), }}")
    _zip(path, {META: _meta({"ndarray": "a0"})})
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(2**20)
    body = [packer.compress(header)] + [packer.compress(chunk) for _ in range(inflated // 2**20)]
    body.append(packer.compress(bytes(inflated % 2**20)) + packer.flush())
    member = zipfile.ZipInfo("a0.npy")
    member.compress_type = zipfile.ZIP_DEFLATED
    crc = zlib.crc32(header)
    for _ in range(inflated // 2**20):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(inflated % 2**20), crc)
    with zipfile.ZipFile(path, "a") as z:
        real = len(header) + inflated
        member.file_size = real if declared is None else declared
        member.CRC = crc
        data = b"".join(body)
        member.compress_size = len(data)
        z.fp.seek(z.start_dir)
        member.header_offset = z.fp.tell()
        z.fp.write(member.FileHeader())
        z.fp.write(data)
        z.start_dir = z.fp.tell()
        z.filelist.append(member)
        z.NameToInfo[member.filename] = member
        z._didModify = True


def test_zip_bomb_is_refused_by_the_cap_and_loads_under_a_larger_one(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    path = tmp_path / "bomb.npz"
    _bomb(path, 40 * 2**20)
    assert path.stat().st_size < 2**20  # 40 MiB of zeros in well under 1 MiB
    with pytest.raises(CheckpointError, match=r"inflate to \d+ bytes, more than max_inflated_bytes=1048576"):
        mg.load(path, max_inflated_bytes=2**20)
    loaded = mg.load(path, max_inflated_bytes=64 * 2**20)
    assert loaded.shape == (40 * 2**20,) and loaded.dtype == np.uint8 and not loaded.any()
    mg.load(path)  # the default cap, 256 MiB, lets 40 MiB through
    monkeypatch.setattr(serialization, "MAX_INFLATED_BYTES", 2**20)  # for callers that cannot pass it
    with pytest.raises(CheckpointError, match="more than max_inflated_bytes=1048576"):
        mg.load(path)


def test_default_cap_refuses_a_member_declaring_gigabytes(tmp_path) -> None:  # noqa: ANN001
    """The issue's case: a small file that numpy inflated to 1.5 GB in memory."""
    path = tmp_path / "bomb.npz"
    _bomb(path, 2**20, declared=1_500_000_000)
    cap = serialization.MAX_INFLATED_BYTES
    with pytest.raises(CheckpointError, match=f"more than max_inflated_bytes={cap}"):
        mg.load(path)


def test_a_bomb_declaring_a_small_size_never_inflates(tmp_path) -> None:  # noqa: ANN001
    """A member declaring 1 KiB but holding 200 MiB of zeros: reading stops at the declared
    size (then the CRC fails), and never holds more than a chunk of inflated data."""
    path = tmp_path / "liar.npz"
    _bomb(path, 200 * 2**20, declared=1024)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            mg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, peak
