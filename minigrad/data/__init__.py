"""Data: datasets, the DataLoader, MNIST / Fashion-MNIST and generated toy sets.

    from minigrad.data import MNIST, DataLoader
    loader = DataLoader(MNIST(split="train"), batch_size=128, shuffle=True)
    for x, y in loader:          # x: float32 (128, 784), y: int64 (128,)
        ...
"""

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .download import ChecksumError, DownloadError, download
from .idx import IdxError, read_idx, write_idx
from .mnist import MNIST, DatasetNotFoundError, FashionMNIST, NumpyOnlyUnpickler
from .sampler import Sampler, WeightedRandomSampler, class_balanced_sample_weights
from .toy import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression_outliers,
    make_spirals,
    make_xor,
)
