"""Downloads against a local HTTP server on 127.0.0.1: mirrors, checksums, atomic files."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from test_data_idx_mnist import make_idx_dir

from minigrad.data import MNIST, DatasetNotFoundError, DownloadError, download
from minigrad.data import mnist as mnist_mod

PAYLOAD = bytes(range(256)) * 40
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """``/good/F`` serves files[F]; ``/corrupt/`` flips a byte; ``/trunc/`` promises the
    full length and hangs up halfway; anything else is a 404."""

    files: dict[str, bytes] = {}

    def do_GET(self):
        _, mode, name = self.path.split("/", 2)
        body = self.files.get(name)
        if body is None or mode not in ("good", "corrupt", "trunc"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "corrupt":
            body = bytes([body[0] ^ 1]) + body[1:]
        if mode == "trunc":
            body = body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.files = {"blob.bin": PAYLOAD}
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_ok(server, tmp_path):
    path = download("blob.bin", [server + "/good/"], tmp_path / "d", "md5", MD5)
    assert path.read_bytes() == PAYLOAD
    assert _files(tmp_path / "d") == ["blob.bin"]


@pytest.mark.parametrize("mode, reason", [("corrupt", "checksum mismatch"), ("trunc", "IncompleteRead"),
                                          ("missing", "HTTP 404")])
def test_failed_download_leaves_no_file(server, tmp_path, mode, reason):
    with pytest.raises(DownloadError, match=reason) as e:
        download("blob.bin", [f"{server}/{mode}/"], tmp_path, "md5", MD5)
    assert f"{server}/{mode}/blob.bin" in str(e.value)
    assert _files(tmp_path) == []


def test_falls_back_to_next_mirror_and_reports_all(server, tmp_path):
    mirrors = [f"{server}/missing", f"{server}/corrupt/", f"{server}/trunc/", f"{server}/good/"]
    path = download("blob.bin", mirrors, tmp_path, "md5", MD5)
    assert path.read_bytes() == PAYLOAD and _files(tmp_path) == ["blob.bin"]
    with pytest.raises(DownloadError) as e:
        download("blob.bin", mirrors[:3], tmp_path / "x", "md5", MD5)
    for m in mirrors[:3]:
        assert m.rstrip("/") + "/blob.bin" in str(e.value)


def test_only_http_urls(tmp_path):
    with pytest.raises(DownloadError, match="only http"):
        download("passwd", ["file:///etc/"], tmp_path, "md5", MD5)


@pytest.fixture
def served_mnist(server, tmp_path, monkeypatch):
    """Fake MNIST .gz files on the server, with their md5s swapped in for the real ones."""
    raw = make_idx_dir(tmp_path / "src")
    files = {p.name: p.read_bytes() for p in (tmp_path / "src").iterdir()}
    _Handler.files = {**files, "blob.bin": PAYLOAD}
    monkeypatch.setattr(MNIST, "resources", {n: hashlib.md5(b).hexdigest() for n, b in files.items()})
    monkeypatch.setattr(mnist_mod, "hub_path", lambda: None)
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return raw


def test_mnist_download_end_to_end(server, served_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_MNIST_MIRRORS", f"{server}/missing/, {server}/good/")
    ds = MNIST(root=tmp_path / "root", split="test", download=True)
    assert ds.source == f"download:{tmp_path / 'root'}"
    np.testing.assert_array_equal(ds.targets, served_mnist["t10k-labels-idx1-ubyte"])
    assert _files(tmp_path / "root") == sorted(MNIST.resources)
    again = MNIST(root=tmp_path / "root", split="test")      # now found as a local IDX folder
    assert again.source == f"idx:{tmp_path / 'root'}"
    cached = MNIST(split="val", download=True, mirrors=[f"{server}/good/"])
    assert cached.source == f"download:{tmp_path / 'cache' / 'minigrad' / 'mnist'}"


def test_mnist_download_failure_lists_everything(server, served_mnist, tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=tmp_path / "r", split="train", download=True, mirrors=[f"{server}/corrupt/"])
    msg = str(e.value)
    assert "3. download=True" in msg and "failed" in msg and "checksum mismatch" in msg
    assert f"{server}/corrupt/" in msg and "-ubyte.gz" in msg
    assert _files(tmp_path / "r") == []
