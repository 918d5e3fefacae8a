"""A fixture plugin that raises in every hook there is, start-up hooks included.

Its implementations are generated from the hookspecs, so a new hook is covered automatically.
pluggy passes an implementation only the arguments it names; these name none.
"""
from liaison import hookimpl
from liaison.plugins import PluginInfo, hookspecs

plugin_info = PluginInfo(name="fixture_broken", title="Broken fixture", version="0.0")

HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("liaison_"))


class Boom(RuntimeError):
    pass


def _failing(hook: str):
    def implementation():
        raise Boom(f"{hook} failed on purpose")

    return hookimpl(implementation)


for _hook in HOOKS:
    globals()[_hook] = _failing(_hook)
