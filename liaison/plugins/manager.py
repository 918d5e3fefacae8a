"""The plugin host: one pluggy ``PluginManager`` per app, in ``app.extensions``.

Discovery is through the entry-point group ``liaison.plugins`` (plus ``PLUGINS_EXTRA`` from the
config, for tests and local work). Each plugin is loaded and registered inside its own guard:
a plugin that fails to import, declares no ``plugin_info`` or implements a hook that does not
exist is *not* registered, is logged and listed on the admin's Plugins page, and the app starts
without it.
"""
from __future__ import annotations

import importlib
import logging
import traceback
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Iterable

import pluggy
from flask import Flask, current_app

from ..models import utcnow
from . import hookspecs
from .types import PluginInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "liaison.plugins"
EXTENSION_KEY = "liaison_plugins"
HOOK_PREFIX = "liaison_"


@dataclass
class LoadedPlugin:
    info: PluginInfo
    obj: Any
    source: str

    @property
    def name(self) -> str:
        return self.info.name


@dataclass
class LoadFailure:
    name: str
    source: str
    error: str
    traceback: str
    at: datetime


@dataclass
class HookFailure:
    plugin: str
    hook: str
    error: str
    traceback: str
    at: datetime
    path: str | None = None


class PluginHost:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("liaison")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self.failures: list[LoadFailure] = []
        # Errors seen by this process, also those that could not be written to the database.
        self.recent_errors: deque[HookFailure] = deque(maxlen=200)
        self.blueprint_owner: dict[str, str] = {}  # blueprint name -> plugin name
        self.hook_names = frozenset(
            name for name in dir(hookspecs) if name.startswith(HOOK_PREFIX)
        )

    # Loading ---------------------------------------------------------------------------
    def load(self, app: Flask) -> None:
        disabled = set(app.config.get("PLUGINS_DISABLED") or ())
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in disabled:
                log.info("plugin %s skipped (PLUGINS_DISABLED)", ep.name)
                continue
            self._guarded(ep.name, f"entry point {ep.value}", ep.load)
        for extra in app.config.get("PLUGINS_EXTRA") or ():
            label = extra if isinstance(extra, str) else getattr(extra, "__name__", repr(extra))
            if label in disabled:
                continue
            self._guarded(label, "PLUGINS_EXTRA", lambda extra=extra: _resolve(extra))
        # Anything still pending here is a bug in the loader above: fail loudly.
        self.pm.check_pending()

    def _guarded(self, name: str, source: str, load) -> None:
        try:
            obj = load()
            self.register(obj, source)
        except Exception as exc:  # a broken plugin must not take the app down
            log.exception("plugin %s could not be loaded from %s", name, source)
            self.failures.append(
                LoadFailure(name, source, f"{type(exc).__name__}: {exc}", traceback.format_exc(), utcnow())
            )

    def register(self, obj: Any, source: str) -> LoadedPlugin:
        info = getattr(obj, "plugin_info", None)
        if not isinstance(info, PluginInfo):
            raise TypeError("a liaison plugin must define plugin_info = PluginInfo(...)")
        if not info.name.isidentifier():
            raise ValueError(f"plugin name {info.name!r} must be a Python identifier")
        if info.name in self.plugins:
            raise ValueError(f"a plugin named {info.name!r} is already registered")
        unknown = sorted(
            attr for attr in dir(obj)
            if attr.startswith(HOOK_PREFIX) and attr not in self.hook_names
        )
        if unknown:
            raise ValueError(
                "unknown hook(s) " + ", ".join(unknown) + " (misspelled? see docs/plugins.md)"
            )
        self.pm.register(obj, name=info.name)
        self.pm.check_pending()
        loaded = LoadedPlugin(info, obj, source)
        self.plugins[info.name] = loaded
        return loaded

    # Start-up hooks (every installed plugin) -----------------------------------------
    def startup_results(self, hook_name: str) -> list[tuple[str, Any]]:
        """Results of a start-up hook, plugin by plugin; a failure is recorded and skipped."""
        return self.call(hook_name, active=None)

    # Calling ---------------------------------------------------------------------------
    def call(self, hook_name: str, active: Iterable[str] | None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook_name`` on the plugins in ``active`` (``None``: all), each in its own guard.

        Returns ``(plugin_name, result)`` for every implementation that returned something.
        """
        hook = getattr(self.pm.hook, hook_name)
        allowed = None if active is None else set(active)
        results = []
        # pluggy's own order (last registered first); implementations run one by one so that
        # an exception in one plugin cannot stop the others.
        for impl in reversed(hook.get_hookimpls()):
            if allowed is not None and impl.plugin_name not in allowed:
                continue
            try:
                result = invoke(impl, kwargs)
            except Exception as exc:
                self.record_error(impl.plugin_name, hook_name, exc)
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def implemented_hooks(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    # Errors ----------------------------------------------------------------------------
    def record_error(self, plugin: str, hook: str, exc: BaseException) -> None:
        from . import errors  # late import: errors needs a request context

        log.error("plugin %s failed in %s: %s", plugin, hook, exc, exc_info=exc)
        failure = HookFailure(
            plugin, hook, f"{type(exc).__name__}: {exc}"[:500],
            "".join(traceback.format_exception(exc)), utcnow(),
        )
        self.recent_errors.append(failure)
        errors.queue_for_storage(failure)


def invoke(impl, kwargs: dict[str, Any]) -> Any:
    """Call one hook implementation with the arguments it names (pluggy's own convention)."""
    return impl.function(*[kwargs[arg] for arg in impl.argnames])


def _resolve(extra: Any) -> Any:
    if isinstance(extra, str):
        return importlib.import_module(extra)
    return extra


def host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions[EXTENSION_KEY]
