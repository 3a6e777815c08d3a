"""MNIST-style IDX files (optionally gzipped): the format's header, no more."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from inr.errors import InrError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    path = Path(path)
    try:
        raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    except FileNotFoundError:
        raise InrError(f"{path}: not found") from None
    except (OSError, EOFError) as err:
        raise InrError(f"{path}: cannot read ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise InrError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[raw[2]])
    start = 4 + 4 * ndim
    if len(raw) - start != int(np.prod(shape)) * dtype.itemsize:
        raise InrError(f"{path}: truncated IDX file (header says {shape})")
    return np.frombuffer(raw, dtype, offset=start).reshape(shape)


def labels_path_for(images: Path) -> Path | None:
    """``t10k-images-idx3-ubyte[.gz]`` -> its ``t10k-labels-idx1-ubyte[.gz]`` if present."""
    name = images.name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1")
    candidate = images.with_name(name)
    return candidate if name != images.name and candidate.is_file() else None


def is_idx(path: Path) -> bool:
    return "idx" in path.name and path.is_file()
