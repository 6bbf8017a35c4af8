"""Modules imported on first use, so a function's cold start pays only for what its module needs.

A REST function's routes name their models, services and repositories through module objects
(``models.CalendarCreate``, ``service.create_calendar``) returned by :func:`lazy_import`: the
module's code runs on the first attribute read, i.e. when a request first reaches a route that
needs it (Powertools resolves a route's annotations on its first request, not at registration).
Under Lambda SnapStart, :func:`teamcal.api.warm` loads every lazy module and builds every
route's validation before the snapshot, so restored environments start with all of it loaded.

Mechanism: :class:`importlib.util.LazyLoader` (standard library). A module already imported is
returned as it is. Lambda runs one request at a time per environment, so the loader's first-use
execution never races.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

#: Names of the modules :func:`lazy_import` registered, in order.
_LAZY: list[str] = []


def lazy_import(name: str) -> ModuleType:
    """The module ``name`` (absolute dotted name), executed on its first attribute access.

    Raises:
        ModuleNotFoundError: no such module (found at once: only the module's code is deferred).
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import statement does: ``teamcal.services.calendars`` is an attribute of its package
        setattr(sys.modules[parent], child, module)
    _LAZY.append(name)
    return module


def load_all() -> list[str]:
    """Execute every module :func:`lazy_import` deferred (e.g. before a SnapStart snapshot).

    Returns the names loaded. Raises whatever a module's code raises."""
    names = list(_LAZY)
    for name in names:
        getattr(sys.modules[name], "__name__")  # noqa: B009 - any attribute read runs the module
    return names
