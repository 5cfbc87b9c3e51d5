"""Backends found by name, e.g. ``get_backend("hwnasbench:fpga")``.

A backend family registers a prefix (the part before ``:``) with a factory that receives
the rest of the name, and a ``describe`` that lists its members for
``agentnas hardware list``. Adding a backend is adding one module and one ``register``
call in :func:`_load_builtin`; families are imported lazily so that a table lookup never
pays for torch or a simulator it does not use.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend
from agentnas.tools.plugins import entry_points_of, is_object_path, load_object

ENTRY_POINT_GROUP = "agentnas.hardware"


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


def _accepts(factory: Callable[..., Any], options: dict[str, Any]) -> bool:
    """True when ``factory`` takes every keyword of ``options``."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: let it decide
        return True
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return True
    names = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return set(options) <= names


def _user_backend(name: str, **options: Any) -> HardwareBackend:
    """A backend of the user's own: ``package.module:Class`` or an entry point of group
    ``agentnas.hardware``; a class or factory called with the options."""
    eps = entry_points_of(ENTRY_POINT_GROUP)
    factory = eps[name].load() if name in eps else load_object(name, "hardware backend")
    if not callable(factory) or not _accepts(factory, options):
        raise UserError(f"backend '{name}' does not accept option(s) {', '.join(options)}")
    backend = factory(**options)
    if not isinstance(backend, HardwareBackend):
        raise UserError(
            f"'{name}' is not a hardware backend: it must subclass "
            "agentnas.tools.hardware.base.HardwareBackend (name, metrics, spaces, evaluate)"
        )
    return backend


def get_backend(name: str, **options: Any) -> HardwareBackend:
    """Resolve ``prefix:member`` (or a bare ``prefix``) to a backend, or refuse clearly.
    ``options`` (e.g. ``dataset="digits"`` for a simulator that trains candidates) go to
    the family's factory; families without options refuse them. A name that is no family
    may be an entry point of ``agentnas.hardware`` or ``package.module:Class``."""
    prefix, _, member = name.partition(":")
    family = _load(prefix)
    if family is None:
        if name in entry_points_of(ENTRY_POINT_GROUP) or is_object_path(name):
            return _user_backend(name, **options)
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


def takes_option(name: str, option: str) -> bool:
    """Whether backend ``name`` is built with the keyword ``option`` (a simulator that
    trains candidates takes ``dataset``); False for a name no backend answers to."""
    prefix, _, _ = name.partition(":")
    family = _load(prefix)
    try:
        if family is not None:
            factory: Any = family.factory
        else:
            eps = entry_points_of(ENTRY_POINT_GROUP)
            factory = eps[name].load() if name in eps else load_object(name, "hardware backend")
    except UserError:
        return False
    return callable(factory) and _accepts(factory, {option: None})


def backend_spaces(name: str) -> tuple[str, ...]:
    """The spaces backend ``name`` scores (its ``spaces``, the device's own first), from
    its family's listing when that names it (no table or simulator is loaded), else from
    the backend itself (a user's backend, a table file)."""
    prefix, _, _ = name.partition(":")
    family = _load(prefix)
    infos = family.describe() if family is not None else []
    exact = [i.spaces for i in infos if i.name == name]
    kinds = {tuple(i.spaces) for i in infos}
    if exact or len(kinds) == 1:
        return tuple(exact[0] if exact else kinds.pop())
    return tuple(get_backend(name).spaces)


def list_backends() -> list[BackendInfo]:
    """Every backend of every family, available or not (with the reason)."""
    infos: list[BackendInfo] = []
    for prefix in _BUILTIN:
        family = _load(prefix)
        if family is not None:
            infos.extend(family.describe())
    return infos
