"""The fixed image batch the data-dependent zero-cost proxies see.

Images are the 400 real CIFAR-10 training images shipped in
``tools/data/cifar10_subset.npz`` (see ``CIFAR10_PROVENANCE.md``), normalised with the
CIFAR-10 channel mean/std NAS-Bench-201 trained with. A batch is a pure function of
``(batch_size, seed)``; its :attr:`ProxyBatch.digest` (SHA-256 of the exact tensors)
is part of every cache key, so a different batch can never reuse a stale score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import torch

from agentnas.tools.errors import UserError

# NAS-Bench-201's CIFAR normalisation (xautodl: mean [125.3, 123.0, 113.9] / 255, std
# [63.0, 62.1, 66.7] / 255)
CIFAR10_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR10_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
NUM_CLASSES = 10
DEFAULT_BATCH_SIZE = 64
MAX_BATCH_SIZE = 400  # images shipped


@dataclass(frozen=True)
class ProxyBatch:
    """Normalised images ``x`` (B, 3, H, W) float32, labels ``y`` (B,) int64 in 0..9."""

    x: torch.Tensor
    y: torch.Tensor
    digest: str  # sha256 hex of x and y bytes, first 16 chars

    @property
    def size(self) -> int:
        return int(self.x.shape[0])


_PRELOADED: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # shipped to a worker once


def preload_images(images: tuple[np.ndarray, np.ndarray]) -> None:
    """Use these CIFAR-10 images and labels (from the object store) instead of the file."""
    _PRELOADED["cifar10"] = images


def shipped_images() -> tuple[np.ndarray, np.ndarray]:
    """The 400 shipped CIFAR-10 images (uint8 pixels) and their labels."""
    if "cifar10" in _PRELOADED:
        return _PRELOADED["cifar10"]
    return _shipped_images()


@cache
def _shipped_images() -> tuple[np.ndarray, np.ndarray]:
    path = resources.files("agentnas.tools.data").joinpath("cifar10_subset.npz")
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as d:
        return d["x"].copy(), d["y"].astype(np.int64)


def batch_digest(x: torch.Tensor, y: torch.Tensor) -> str:
    h = hashlib.sha256()
    h.update(str(tuple(x.shape)).encode())
    h.update(x.detach().to(torch.float32).contiguous().numpy().tobytes())
    h.update(y.detach().to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def validate_batch(x: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> None:
    """Refuse anything that is not a float (B, 3, H, W) image batch with B labels, B ≥ 2,
    H = W a multiple of 4 (the network halves the resolution twice)."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise UserError(f"image batch must be a float tensor of shape (B, 3, H, W); got {shape}")
    b, _, h, w = x.shape
    if b < 2 or h != w or h < 4 or h % 4:
        raise UserError(
            f"image batch must have B >= 2 square images with side a multiple of 4 "
            f"(e.g. (64, 3, 32, 32)); got {tuple(x.shape)}"
        )
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise UserError("image batch must hold finite floating-point values")
    if not isinstance(y, torch.Tensor) or y.shape != (b,) or y.is_floating_point():
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise UserError(f"labels must be an integer tensor of shape ({b},); got {shape}")
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise UserError(f"labels must lie in 0..{num_classes - 1}")


def make_batch(x: torch.Tensor, y: torch.Tensor) -> ProxyBatch:
    """Wrap a user-supplied, already normalised batch (validated)."""
    validate_batch(x, y)
    x = x.detach().to(torch.float32).contiguous()
    y = y.detach().to(torch.int64).contiguous()
    return ProxyBatch(x, y, batch_digest(x, y))


@cache
def proxy_batch(batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 0) -> ProxyBatch:
    """``batch_size`` shipped images drawn without replacement with ``seed``, normalised."""
    if not 2 <= int(batch_size) <= MAX_BATCH_SIZE:
        raise UserError(f"proxy batch size must be in 2..{MAX_BATCH_SIZE}; got {batch_size}")
    images, labels = shipped_images()
    idx = np.sort(np.random.default_rng(seed).choice(len(images), int(batch_size), False))
    x = torch.from_numpy(images[idx]).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    x = ((x - mean) / std).contiguous()
    return make_batch(x, torch.from_numpy(labels[idx]))
