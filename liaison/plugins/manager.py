"""The plugin host: one pluggy ``PluginManager`` per app, in ``app.extensions``.

Discovery is through the entry-point group ``liaison.plugins`` (plus ``PLUGINS_EXTRA`` from the
config, for tests and local work). Each plugin is loaded and registered inside its own guard:
a plugin that fails to import, declares no ``plugin_info`` or implements a hook that does not
exist is *not* registered, is logged and listed on the admin's Plugins page, and the app starts
without it.

Hooks are called through pluggy's own machinery (``PluginHost.call``): hook wrappers,
``firstresult`` hookspecs and call monitoring work as pluggy documents them. Inactive plugins
are left out with ``PluginManager.subset_hook_caller``. Each plugin's implementation is guarded
where pluggy calls it: an exception is recorded against that plugin (log, Plugins page,
``plugin_errors``) and counts as "no contribution", so one failing plugin cannot take a page
down or stop the others. A hook *wrapper* wraps every plugin's call and runs unguarded: only the
core and trusted plugins should write one.

Set ``LIAISON_TRACE_PLUGINS=1`` (or the config key ``PLUGINS_TRACE``) to log every hook call —
its name, the plugins called and the duration — on the logger ``liaison.plugins.trace``.
"""
from __future__ import annotations

import contextvars
import functools
import importlib
import logging
import os
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, Iterable

import pluggy
from flask import Flask, current_app

from ..models import utcnow
from . import hookspecs
from .types import PluginInfo

log = logging.getLogger(__name__)
trace_log = logging.getLogger("liaison.plugins.trace")

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


@dataclass
class _Call:
    """What the guarded implementations of one hook call reported: who returned what, who failed."""

    results: list[tuple[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def owner(self, result: Any) -> str | None:
        for index, (plugin, value) in enumerate(self.results):
            if value is result:
                del self.results[index]
                return plugin
        return None


_current_call: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("liaison_hook_call", default=None)


class PluginHost:
    def __init__(self, *, trace: bool | None = None) -> None:
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
        if trace is None:
            trace = os.environ.get("LIAISON_TRACE_PLUGINS", "").lower() in ("1", "true", "yes", "on")
        self.tracing = False
        if trace:
            self.enable_tracing()

    def add_hookspecs(self, module: Any) -> None:
        """More hookspecs (a plugin or a test may declare its own hooks)."""
        self.pm.add_hookspecs(module)
        self.hook_names = self.hook_names | {name for name in dir(module) if name.startswith(HOOK_PREFIX)}

    def enable_tracing(self) -> None:
        """Log every hook call (hook, plugins called, duration in ms) on ``liaison.plugins.trace``."""
        if self.tracing:
            return
        started: list[float] = []

        def before(hook_name, hook_impls, kwargs):
            started.append(time.perf_counter())

        def after(outcome, hook_name, hook_impls, kwargs):
            duration = (time.perf_counter() - started.pop()) * 1000 if started else 0.0
            trace_log.info("hook %s plugins=%s %.2f ms%s", hook_name,
                           ",".join(impl.plugin_name for impl in reversed(hook_impls)) or "-", duration,
                           " (raised)" if outcome.exception is not None else "")

        self.pm.add_hookcall_monitoring(before, after)
        self.tracing = True

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
        self._guard(obj)
        loaded = LoadedPlugin(info, obj, source)
        self.plugins[info.name] = loaded
        return loaded

    def _guard(self, obj: Any) -> None:
        """Wrap each of the plugin's (non-wrapper) implementations in the per-plugin guard."""
        for caller in self.pm.get_hookcallers(obj) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is obj and not (impl.wrapper or impl.hookwrapper):
                    impl.function = _guarded(self, impl.plugin_name, caller.name, impl.function)

    # Start-up hooks (every installed plugin) -----------------------------------------
    def startup_results(self, hook_name: str) -> list[tuple[str, Any]]:
        """Results of a start-up hook, plugin by plugin; a failure is recorded and skipped."""
        return self.call(hook_name, active=None)

    # Calling ---------------------------------------------------------------------------
    def caller(self, hook_name: str, active: Iterable[str] | None):
        """pluggy's caller of ``hook_name`` for the plugins in ``active`` (``None``: all)."""
        hook = getattr(self.pm.hook, hook_name)
        if active is None:
            return hook
        allowed = set(active)
        inactive = [plugin for name, plugin in self.pm.list_name_plugin() if name not in allowed]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=inactive) if inactive else hook

    def call(self, hook_name: str, active: Iterable[str] | None, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook_name`` through pluggy on the plugins in ``active`` (``None``: all).

        Returns ``(plugin_name, result)`` for every implementation that returned something, in
        pluggy's order (one pair at most for a ``firstresult`` hook). A result a hook wrapper
        added is attributed to the plugin ``core``.
        """
        record = _Call()
        token = _current_call.set(record)
        try:
            outcome = self.caller(hook_name, active)(**kwargs)
        finally:
            _current_call.reset(token)
        spec = getattr(self.pm.hook, hook_name).spec
        if spec is not None and spec.opts.get("firstresult"):
            outcome = [] if outcome is None else [outcome]
        return [(record.owner(result) or "core", result) for result in outcome]

    def call_one(self, hook_name: str, plugin: str, **kwargs: Any) -> tuple[bool, list[Any]]:
        """Call one plugin's implementation (through pluggy): ``(failed, results)``."""
        record = _Call()
        token = _current_call.set(record)
        try:
            outcome = self.caller(hook_name, [plugin])(**kwargs)
        finally:
            _current_call.reset(token)
        return plugin in record.failed, outcome if isinstance(outcome, list) else [outcome]

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


def _guarded(host: PluginHost, plugin: str, hook_name: str, function):
    """``function`` (one plugin's implementation of one hook) inside the per-plugin guard."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        call = _current_call.get()
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # a failing plugin must not take the page or the others down
            host.record_error(plugin, hook_name, exc)
            if call is not None:
                call.failed.append(plugin)
            return None
        if call is not None and result is not None:
            call.results.append((plugin, result))
        return result

    return guarded


def _resolve(extra: Any) -> Any:
    if isinstance(extra, str):
        return importlib.import_module(extra)
    return extra


def host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions[EXTENSION_KEY]
