"""Sandbox twins by connector name: what the contract kit starts to test a connector.

A twin is a context-manager factory taking ``(world, faults)`` and yielding the environment
mapping the connector's ``SourceEnv`` names (endpoint and credentials). Each module in this
package registers the twins it provides; the package spans every ``sandbox/twins/`` folder on
``sys.path``, so a connector kept outside this repository registers its twin next to it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.model import World

__path__ = pkgutil.extend_path(__path__, __name__)

FAULT_PROFILES = ("none", "flaky", "hostile")

Twin = Callable[["World", str], AbstractContextManager[Mapping[str, str]]]

_TWINS: dict[str, Twin] = {}


class TwinError(Exception):
    """A twin is missing or cannot serve what was asked (e.g. a fault profile it lacks)."""


def register_twin(name: str) -> Callable[[Twin], Twin]:
    """Decorator: ``@register_twin("crm")`` over a factory makes it the twin of ``crm``."""

    def add(factory: Twin) -> Twin:
        existing = _TWINS.get(name)
        if existing is not None and existing is not factory:
            raise TwinError(f"a twin named {name!r} is already registered")
        _TWINS[name] = factory
        return factory

    return add


def discover_twins() -> Mapping[str, Twin]:
    """Import every module of this package (in every folder it spans) so each registers."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(_TWINS.items()))


def start_twin(
    name: str, world: World, faults: str = "none"
) -> AbstractContextManager[Mapping[str, str]]:
    """The running twin of connector ``name``; entering it yields the connector's environment."""
    if faults not in FAULT_PROFILES:
        raise TwinError(f"fault profile {faults!r} is not one of {', '.join(FAULT_PROFILES)}")
    factory = discover_twins().get(name)
    if factory is None:
        known = ", ".join(discover_twins()) or "none"
        raise TwinError(f"no sandbox twin for connector {name!r}; twins: {known}")
    return factory(world, faults)


__all__ = ["FAULT_PROFILES", "Twin", "TwinError", "discover_twins", "register_twin", "start_twin"]
