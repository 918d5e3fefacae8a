"""A fixture plugin whose hook name is misspelled: it must fail loudly, not be ignored."""
from liaison import hookimpl
from liaison.plugins import NavItem, PluginInfo

plugin_info = PluginInfo(name="fixture_misspelled", title="Misspelled fixture", version="0.0")


@hookimpl
def liaison_nav_item(user):  # should be liaison_nav_items
    return [NavItem("never", "main.home")]
