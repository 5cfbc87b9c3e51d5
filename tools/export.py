"""A found cell as a file others can use: a self-contained PyTorch module that builds the
network (it needs only torch), or JSON.

NB201 cells become the benchmark's ``TinyNetwork`` (the same classes as
:mod:`agentnas.tools.spaces.nb201_torch`, copied in, so the parameter count is the one the
benchmark trained), with the cell's NB201 index; ``photonic-mlp`` architectures become
the electronic equivalent (``nn.Linear`` layers with the chosen activation), with the
photonic settings (mesh, block size, phase bits) recorded beside it.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from agentnas.tools.errors import UserError

FORMATS = ("torch", "json")


def _header(space: str, arch: str, info: dict[str, Any]) -> list[str]:
    return [
        f'"""{space} network exported by agentnas.',
        "",
        f"cell: {arch}",
        *[f"{k}: {v}" for k, v in info.items()],
        "",
        "Build it with ``build()``; run ``python THIS_FILE.py`` for one forward pass.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import torch",
        "from torch import nn",
        "",
        f"CELL = {arch!r}",
    ]


def _nb201_source(arch: str, dataset: str, info: dict[str, Any]) -> str:
    from agentnas.tools.spaces import nb201_torch as t
    from agentnas.tools.spaces.nb201 import EDGES, cell_to_index, parse_cell

    ops = parse_cell(arch)
    lines = _header("NAS-Bench-201", arch, {"nb201_index": cell_to_index(arch), **info})
    lines += [
        f"NB201_INDEX = {cell_to_index(arch)}",
        f"OPS = {tuple(ops)!r}  # one op per edge, in EDGES order",
        f"EDGES = {EDGES!r}  # (to node, from node)",
        f"NUM_CLASSES = {t.NUM_CLASSES.get(dataset, 10)}",
        f"INPUT_SIZE = {t.INPUT_SIZE.get(dataset, 32)}",
        f"C_INIT = {t.C_INIT}",
        f"N_CELLS_PER_STAGE = {t.N_CELLS_PER_STAGE}",
        "",
    ]
    for obj in (t.ReLUConvBN, t.Zero, t.make_op, t.InferCell, t.ResNetBasicBlock, t.TinyNetwork):
        src = inspect.getsource(obj).replace("raise UserError(", "raise ValueError(")
        lines += ["", src.rstrip(), ""]
    lines += [
        "",
        "def build(num_classes: int = NUM_CLASSES) -> nn.Module:",
        '    """The network, freshly initialised (seed torch first for fixed weights)."""',
        "    return TinyNetwork(OPS, num_classes)",
        "",
        "",
        'if __name__ == "__main__":',
        "    net = build().eval()",
        "    out = net(torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE))",
        '    print(f"{CELL}: output {tuple(out.shape)}")',
    ]
    return "\n".join(lines) + "\n"


def _photonic_source(arch: str, dataset: str, info: dict[str, Any]) -> str:
    from agentnas.tools.spaces.photonic_mlp import parse

    cfg = parse(arch)
    in_features = {"mnist": 784, "digits": 64}.get(dataset, 784)
    act = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "abs": "Abs()"}
    settings = {"mesh": cfg.mesh, "block_size": cfg.block_size, "phase_bits": cfg.phase_bits}
    lines = _header("photonic-mlp", arch, {**settings, **info})
    lines += [
        f"IN_FEATURES = {in_features}",
        "NUM_CLASSES = 10",
        f"HIDDEN = {tuple(cfg.hidden)!r}",
        f"PHOTONIC = {settings!r}  # the MZI mesh the search scored it on",
        "",
        "",
        "class Abs(nn.Module):",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        "        return x.abs()",
        "",
        "",
        "def build(num_classes: int = NUM_CLASSES) -> nn.Module:",
        '    """The electronic equivalent: Linear layers, the activation between them."""',
        "    dims = [IN_FEATURES, *HIDDEN, num_classes]",
        "    layers: list[nn.Module] = []",
        "    for n in range(len(dims) - 1):",
        "        layers.append(nn.Linear(dims[n], dims[n + 1]))",
        "        if n < len(dims) - 2:",
        f"            layers.append({act[cfg.act]})",
        "    return nn.Sequential(*layers)",
        "",
        "",
        'if __name__ == "__main__":',
        "    out = build().eval()(torch.zeros(2, IN_FEATURES))",
        '    print(f"{CELL}: output {tuple(out.shape)}")',
    ]
    return "\n".join(lines) + "\n"


def export_text(
    space: str, arch: str, fmt: str, dataset: str, info: dict[str, Any]
) -> tuple[str, str]:
    """(file text, suffix) of ``arch`` in ``fmt``; ``info`` (metrics, run, round) is
    written into the file so it says where it came from."""
    if fmt not in FORMATS:
        raise UserError(f"unknown --format '{fmt}'; accepted: {', '.join(FORMATS)}")
    if fmt == "json":
        data: dict[str, Any] = {"space": space, "dataset": dataset, "cell": arch, **info}
        if space == "nb201":
            from agentnas.tools.spaces.nb201 import cell_to_index, parse_cell

            data["nb201_index"] = cell_to_index(arch)
            data["ops"] = list(parse_cell(arch))
        return json.dumps(data, indent=2, default=str) + "\n", ".json"
    if space == "nb201":
        return _nb201_source(arch, dataset, info), ".py"
    if space == "photonic-mlp":
        return _photonic_source(arch, dataset, info), ".py"
    raise UserError(f"--format torch is not available for space '{space}'; use --format json")
