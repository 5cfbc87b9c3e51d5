"""User-supplied objects named ``package.module:Attr`` or registered by a package under an
entry-point group (``agentnas.spaces``, ``agentnas.hardware``), so a space or a backend of
one's own is used without touching agentnas itself.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from agentnas.tools.errors import UserError


def is_object_path(name: str) -> bool:
    """True for ``package.module:Attr`` or ``module:Class``: a dotted module path, or a
    capitalised attribute, which no built-in name (``hwnasbench:fpga``) looks like."""
    module, sep, attr = name.partition(":")
    if not (sep and attr and module):
        return False
    return all(p.isidentifier() for p in module.split(".")) and (
        "." in module or attr[:1].isupper()
    )


def load_object(spec: str, kind: str) -> Any:
    """The attribute named by ``package.module:Attr`` (a class or a factory), or one line
    saying why it cannot be loaded."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise UserError(f"{kind} '{spec}' should look like package.module:Class")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise UserError(f"cannot import module '{module}' for {kind} '{spec}': {exc}") from None
    obj: Any = mod
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UserError(f"module '{module}' has no '{attr}' (for {kind} '{spec}')") from None
    return obj


def entry_points_of(group: str) -> dict[str, EntryPoint]:
    """Installed entry points of ``group``, by name."""
    return {ep.name: ep for ep in entry_points(group=group)}
