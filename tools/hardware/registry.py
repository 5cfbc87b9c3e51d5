"""Backends found by name, e.g. ``get_backend("hwnasbench:fpga")``.

A backend family registers a prefix (the part before ``:``) with a factory that receives
the rest of the name, and a ``describe`` that lists its members for
``agentnas hardware list``. Adding a backend is adding one module and one ``register``
call in :func:`_load_builtin`; families are imported lazily so that a table lookup never
pays for torch or a simulator it does not use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend


@dataclass(frozen=True)
class Family:
    prefix: str
    # receives the part after "prefix:" ("" if none) and any backend options
    factory: Callable[..., HardwareBackend]
    describe: Callable[[], list[BackendInfo]]


_FAMILIES: dict[str, Family] = {}

# prefix -> module that calls register() when imported
_BUILTIN = {
    "hwnasbench": "agentnas.tools.hardware.hwnasbench",
    "hwnb360": "agentnas.tools.hardware.hwnb360",
    "table": "agentnas.tools.hardware.table",
    "cpu": "agentnas.tools.hardware.cpu",
    "optical-mzi": "agentnas.tools.hardware.optical",
    "electronic": "agentnas.tools.hardware.electronic",
}


def register(family: Family) -> None:
    _FAMILIES[family.prefix] = family


def _load(prefix: str) -> Family | None:
    if prefix not in _FAMILIES and prefix in _BUILTIN:
        try:
            importlib.import_module(_BUILTIN[prefix])
        except ModuleNotFoundError as exc:  # a family not built yet in this checkout
            if exc.name != _BUILTIN[prefix]:
                raise
    return _FAMILIES.get(prefix)


def get_backend(name: str, **options: Any) -> HardwareBackend:
    """Resolve ``prefix:member`` (or a bare ``prefix``) to a backend, or refuse clearly.
    ``options`` (e.g. ``dataset="digits"`` for a simulator that trains candidates) go to
    the family's factory; families without options refuse them."""
    prefix, _, member = name.partition(":")
    family = _load(prefix)
    if family is None:
        known = ", ".join(info.name for info in list_backends() if info.available)
        raise UserError(f"unknown hardware backend '{name}'; available: {known}")
    if not options:
        return family.factory(member)
    try:
        return family.factory(member, **options)
    except TypeError:
        raise UserError(
            f"backend '{name}' does not accept option(s) {', '.join(options)}"
        ) from None


def list_backends() -> list[BackendInfo]:
    """Every backend of every family, available or not (with the reason)."""
    infos: list[BackendInfo] = []
    for prefix in _BUILTIN:
        family = _load(prefix)
        if family is not None:
            infos.extend(family.describe())
    return infos
