"""Safe downloads: try each mirror in turn, verify a checksum, write atomically.

A file is streamed into a temporary ``.part`` file next to its destination while its
hash is computed; only a complete file whose hash matches the known one is renamed into
place. Anything else (HTTP error, truncated body, wrong hash) deletes the partial file
and moves on to the next mirror; when all fail, the error lists every URL and why.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class ChecksumError(ValueError):
    """A file whose hash differs from the known one."""


class DownloadError(RuntimeError):
    """No mirror gave a complete file with the expected checksum."""


def file_hash(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file's bytes (``algorithm`` is ``"md5"``, ``"sha256"``...)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_hash(path: str | os.PathLike, algorithm: str, expected: str) -> None:
    """Raise ``ChecksumError`` naming the file unless its digest is ``expected``."""
    got = file_hash(path, algorithm)
    if got != expected.lower():
        raise ChecksumError(f"{path}: {algorithm} checksum mismatch: expected {expected}, got {got}; "
                            f"the file is corrupt or not the one expected")


def _fetch(url: str, dest: Path, algorithm: str, expected: str, timeout: float) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"only http:// and https:// URLs are downloaded, got {url!r}")
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.new(algorithm)
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            for chunk in iter(lambda: resp.read(1 << 16), b""):
                h.update(chunk)
                out.write(chunk)
                received += len(chunk)
        if length is not None and received != int(length):
            raise http.client.IncompleteRead(b"", int(length) - received)
        if h.hexdigest() != expected.lower():
            raise ChecksumError(f"{algorithm} checksum mismatch: expected {expected}, got {h.hexdigest()}")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def download(filename: str, mirrors: Sequence[str], dest_dir: str | os.PathLike,
             algorithm: str, expected: str, timeout: float = 30.0) -> Path:
    """Fetch ``filename`` from the first mirror (a base URL) that serves it intact.

    Returns the path of the verified file in ``dest_dir``; raises ``DownloadError``
    listing each URL tried and its failure when none works.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / filename
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            _fetch(url, dest, algorithm, expected, timeout)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as e:
            reason = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else repr(e)
            failures.append(f"  {url}: {reason}")
    tried = "\n".join(failures) or "  (no mirrors given)"
    raise DownloadError(f"could not download {filename} into {dest_dir}; tried:\n{tried}")
