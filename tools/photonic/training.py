"""Brief CPU training of a ``photonic-mlp`` candidate, and its robust accuracy under noise.

:func:`train` fits the network in seconds (Adam, batch 128, a few epochs). With noise-aware
training (``cfg.nat``) every training forward is one Monte-Carlo draw of the hardware's
non-idealities; :class:`~agentnas.tools.photonic.layers.MZILinear` passes straight-through
gradients, so the weights learn to tolerate the noise the chip will add. Without it the
ideal network (``nonideal=None``, exactly ``nn.Linear``) is trained.

:func:`robust_accuracy` scores a trained network on the fixed test split: clean accuracy
(ideal simulator) and K Monte-Carlo draws of the non-idealities, one draw = one chip
instance + one moment of dynamic noise applied to the whole test set. Accuracies are in
percent (0–100).

The architecture's ``bits`` is the phase-shifter DAC resolution: it replaces the preset's
``phase_bits`` whenever the preset quantizes phases at all (``ideal`` stays unquantized, so
its robust accuracy equals the clean one). Everything is deterministic given the seeds and
runs on one torch thread (see ``MAX_THREADS``).

Negative degradation (robust > clean) is real, not a bug and not Monte-Carlo noise. Clean
accuracy is the trained weights W on an ideal chip; a noise-aware network was optimised,
through the straight-through estimator, for the weights its chip realises (W quantized to
``bits`` and perturbed), so W itself is a network no loss ever scored. Measured on digits
(h=32 and h=64-16, 5 epochs, 32 draws, seeds 0-2; the standard error of the mean over
draws is 0.05-0.2 pp, the gaps are 10-30 of them): ``nat=1`` gives degradations down to
−2.8 pp (realistic, 4-bit) and −2.0 pp (realistic, 8-bit), e.g. clean 85.8 %, robust
88.6 %, quantization alone 87.8 %; ``nat=0`` stays positive at 4 bits (+1.7 to +13 pp) and
dips to −0.8 pp at 8 bits, where a few borderline test images of 360 flip either way.
Training and scoring use the same resolution (:func:`hardware_nonideal`, both paths).
"""

from __future__ import annotations

import contextlib
import statistics
import threading
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from pydantic import BaseModel
from torch import nn

from agentnas.tools.photonic.datasets import PhotonicDataset
from agentnas.tools.photonic.energy import LayerSpec
from agentnas.tools.photonic.layers import MZILinear, set_nonideal
from agentnas.tools.photonic.nonideal import NonIdealities, detect
from agentnas.tools.progress import progress
from agentnas.tools.spaces.photonic_mlp import PhotonicMLPConfig

# One thread: the simulator runs many small batched ops, and on a shared 2-core machine a
# second thread costs more in contention than it gains (measured: 3–10× slower).
MAX_THREADS = 1
BATCH_SIZE = 128
LEARNING_RATE = 1e-2
DEFAULT_EPOCHS = 5


class _Abs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs()


_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "abs": _Abs,
}


def activation(name: str) -> nn.Module:
    """The electronic nonlinearity applied between layers, after detection."""
    return _ACTIVATIONS[name]()


class PhotonicMLP(nn.Module):
    """MZILinear layers with the activation between them (electronic, after detection)."""

    def __init__(self, cfg: PhotonicMLPConfig, in_features: int, n_classes: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.act = activation(cfg.act)
        self.layers = nn.ModuleList(
            MZILinear(i, o, mesh=cfg.mesh, block_size=cfg.block_size)
            for i, o in cfg.layer_shapes(in_features, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
        return x

    @property
    def mzi_count(self) -> int:
        return sum(layer.mzi_count for layer in self.layers)

    def specs(self) -> list[LayerSpec]:
        """The layers as the energy model sees them."""
        return [layer.spec() for layer in self.layers]


def plain_mlp(cfg: PhotonicMLPConfig, in_features: int, n_classes: int) -> nn.Sequential:
    """The same network with ``nn.Linear`` layers (the electronic reference, and the
    baseline of the simulator-overhead benchmark)."""
    mods: list[nn.Module] = []
    shapes = cfg.layer_shapes(in_features, n_classes)
    for n, (i, o) in enumerate(shapes):
        mods.append(nn.Linear(i, o))
        if n < len(shapes) - 1:
            mods.append(activation(cfg.act))
    return nn.Sequential(*mods)


def hardware_nonideal(
    nonideal: NonIdealities | None, cfg: PhotonicMLPConfig
) -> NonIdealities | None:
    """The preset with the architecture's phase-shifter resolution, when it quantizes."""
    if nonideal is None or nonideal.phase_bits is None:
        return nonideal
    return nonideal.model_copy(update={"phase_bits": cfg.phase_bits})


_threads_lock = threading.Lock()
_threads_users = 0
_threads_saved = 1


@contextlib.contextmanager
def limited_threads(n: int = MAX_THREADS) -> Iterator[None]:
    """Run torch on at most ``n`` threads, restoring the previous setting afterwards.

    Counted across threads: torch's thread count is one per process, and Designers train
    in parallel graph threads under the local executor, so the first to enter sets it and
    the last to leave restores it (one thread's restore must not change another's
    training mid-way: the thread count changes the float sums, and results must not
    depend on the executor)."""
    global _threads_users, _threads_saved
    with _threads_lock:
        if _threads_users == 0:
            _threads_saved = torch.get_num_threads()
            torch.set_num_threads(max(1, min(_threads_saved, n)))
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_saved)


_init_lock = threading.Lock()
"""Seeding torch's global generator and drawing the initial weights from it is one step:
two threads doing it at once would draw each other's numbers."""


def train(
    cfg: PhotonicMLPConfig,
    dataset: PhotonicDataset,
    nonideal: NonIdealities | None = None,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    nat_epochs: int | None = None,
    remap_every: int = 1,
) -> PhotonicMLP:
    """Train ``cfg`` on ``dataset``'s training split; returns the model with the simulator
    switched off (``nonideal=None``). ``nonideal`` is used only when ``cfg.nat`` is on, in
    the last ``nat_epochs`` epochs (None = all of them; fewer is cheaper, since every
    noise-aware step re-maps the changed weights onto MZI phases). ``remap_every``: a
    noise-aware step draws its noise on a decomposition at most this many steps old
    (:meth:`MZILinear._stale_error`; 1 = decompose every step, exact)."""
    with limited_threads():
        with _init_lock:  # weight init from the seeded global generator, atomically
            torch.manual_seed(seed)
            model = PhotonicMLP(cfg, dataset.in_features, dataset.n_classes)
        noise = hardware_nonideal(nonideal, cfg) if cfg.nat else None
        noise_gen = torch.Generator().manual_seed(seed + 1)
        first_nat = epochs - (epochs if nat_epochs is None else min(nat_epochs, epochs))
        opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        shuffle = torch.Generator().manual_seed(seed + 2)
        x, y = dataset.x_train, dataset.y_train
        model.train()
        for epoch in range(epochs):
            progress(f"training epoch {epoch + 1}/{epochs}", epoch, epochs, level="detail")
            if epoch == first_nat and noise is not None:
                set_nonideal(model, noise, noise_gen, remap_every)
            order = torch.randperm(len(y), generator=shuffle)
            for start in range(0, len(y), BATCH_SIZE):
                idx = order[start : start + BATCH_SIZE]
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        set_nonideal(model, None)
        model.eval()
        return model


class RobustResult(BaseModel):
    """Accuracy (%) on the test split: ideal, and over K Monte-Carlo hardware draws."""

    clean_accuracy: float
    mean: float
    std: float  # sample std over draws (0 for one draw)
    degradation: float  # clean − mean, percentage points; < 0 is possible (module doc)
    per_draw: list[float]


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return 100.0 * float((model(x).argmax(dim=1) == y).double().mean())


EARLY_STOP_CHUNK = 8  # draws realised together, and between two looks at the standard error


def draw_accuracies(
    model: PhotonicMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    nonideal: NonIdealities,
    generators: list[torch.Generator],
) -> list[float]:
    """Accuracy (%) of ``model`` on (x, y) under one hardware draw per generator, all
    draws in one batched pass: each layer realises its weights for every draw at once
    (:meth:`MZILinear.mapped_weights`), the inputs go through a batched matmul, and
    each draw's detector noise comes from its own generator (the order one draw of
    ``model(x)`` uses it), so a draw's accuracy does not depend on its batch."""
    h = x
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        w = layer.mapped_weights(nonideal, list(generators))
        z = torch.matmul(h, w.transpose(-1, -2).to(x.dtype))  # [draws, n, out]
        z = torch.stack([detect(z[d], nonideal, g) for d, g in enumerate(generators)])
        if layer.bias is not None:
            z = z + layer.bias.to(x.dtype)
        h = model.act(z) if i < last else z
    hits = (h.argmax(dim=-1) == y).double().mean(dim=-1)
    return [100.0 * float(v) for v in hits]


def robust_accuracy(
    model: PhotonicMLP,
    dataset: PhotonicDataset,
    nonideal: NonIdealities | None,
    draws: int = 32,
    seed: int = 0,
    tolerance_pp: float | None = None,
) -> RobustResult:
    """Clean and Monte-Carlo accuracy (%) of ``model`` on the test split; draw i uses
    generator seed ``seed·100003 + i``, so results are reproducible and draw-order free.

    Draws run ``EARLY_STOP_CHUNK`` at a time in one batched pass (:func:`draw_accuracies`)
    on one decomposition of the weights. Early stopping: with ``tolerance_pp``, draws
    stop after any chunk once the standard error of the mean is at most that many
    percentage points (the mean is then as precise as asked; more draws would not move
    it). It depends only on the draws' values, so it is deterministic too."""
    if draws < 1:
        from agentnas.tools.errors import UserError

        raise UserError(f"draws must be a positive integer, got {draws}")
    noise = hardware_nonideal(nonideal, model.cfg)
    x, y = dataset.x_test, dataset.y_test
    with limited_threads(), torch.no_grad():
        set_nonideal(model, None)
        clean = _accuracy(model, x, y)
        per_draw: list[float] = []
        for start in range(0, draws, EARLY_STOP_CHUNK):
            stop = min(start + EARLY_STOP_CHUNK, draws)
            gens = [torch.Generator().manual_seed(seed * 100_003 + i) for i in range(start, stop)]
            if noise is None:  # no hardware: every draw is the clean network
                per_draw += [clean] * len(gens)
            else:
                per_draw += draw_accuracies(model, x, y, noise, gens)
            for i in range(start, stop):  # one batched pass: the draws finish together
                progress(f"robust accuracy: hardware draw {i + 1}/{draws}", i, draws, "detail")
            if _precise_enough(per_draw, tolerance_pp):
                break
    mean = statistics.fmean(per_draw)
    std = statistics.stdev(per_draw) if len(per_draw) > 1 else 0.0
    return RobustResult(
        clean_accuracy=clean, mean=mean, std=std, degradation=clean - mean, per_draw=per_draw
    )


def _precise_enough(per_draw: list[float], tolerance_pp: float | None) -> bool:
    n = len(per_draw)
    if tolerance_pp is None or n < EARLY_STOP_CHUNK or n % EARLY_STOP_CHUNK:
        return False
    return statistics.stdev(per_draw) / n**0.5 <= tolerance_pp
