"""docs/plugins.md documents every hook with its exact signature (the docs cannot drift)."""
import inspect
import re
from pathlib import Path

import pytest

from liaison.plugins import hookspecs

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "plugins.md").read_text(encoding="utf-8")
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("liaison_"))


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_are_documented(hook):
    signature = f"{hook}({', '.join(inspect.signature(getattr(hookspecs, hook)).parameters)})"
    assert re.search(rf"^#+ {re.escape(signature)}$", DOCS, re.MULTILINE), f"docs/plugins.md lacks a heading '{signature}'"


def test_documented_hooks_exist():
    documented = set(re.findall(r"^#+ (liaison_\w+)\(", DOCS, re.MULTILINE))
    assert documented == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspecs_have_docstrings(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip(), hook
