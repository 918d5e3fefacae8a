"""Message catalogs: ``python -m liaison.i18n_tools update`` (extract and merge) and
``python -m liaison.i18n_tools update asean_language_title`` (one catalog only) and
``python -m liaison.i18n_tools compile`` (``.po`` → ``.mo``, run by ``make run`` and ``make test``) and
``python -m liaison.i18n_tools merge FRAGMENT.po [liaison|<plugin>]`` (extract, update, then take the
Chinese translations from a ``.po`` fragment — used when several people add messages at once; the
catalog files are locked while it runs).

The core and each bundled plugin have their own catalog in ``<package>/translations``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("zh_Hans_CN", "en")
KEYWORDS = ["_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "lazy_ngettext:1,2", "_n:1,2"]


def catalog_roots() -> list[Path]:
    """The core package and every bundled plugin package (each with its own catalog)."""
    roots = [ROOT / "liaison"]
    plugins = ROOT / "plugins"
    if plugins.is_dir():
        roots += sorted(p for p in plugins.iterdir() if (p / "__init__.py").exists())
    return roots


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(root: Path) -> Path:
    pot = root / "translations" / "messages.pot"
    pot.parent.mkdir(parents=True, exist_ok=True)
    args = ["extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), "--no-location", "--sort-output",
            "--project", "liaison", "--copyright-holder", "liaison developers"]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    if root.name == "liaison":
        args += ["--ignore-dirs", "translations"]
    _babel(*args, str(root))
    return pot


def update(only: list[str] | None = None) -> None:
    """Extract and merge; ``only`` limits it to some roots by name (``liaison``, a plugin's name)."""
    for root in catalog_roots():
        if only and root.name not in only:
            continue
        pot = extract(root)
        for locale in LOCALES:
            po = root / "translations" / locale / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _babel("update", "-i", str(pot), "-d", str(root / "translations"), "-l", locale,
                       "--no-fuzzy-matching", "--ignore-obsolete")
            else:
                _babel("init", "-i", str(pot), "-d", str(root / "translations"), "-l", locale)
        print(f"updated {root.relative_to(ROOT)}/translations")


def compile_all() -> None:
    for root in catalog_roots():
        directory = root / "translations"
        if any(directory.glob("*/LC_MESSAGES/messages.po")):
            _babel("compile", "-d", str(directory))


def merge(fragment: Path, root_name: str = "liaison") -> int:
    """Update one catalog, then fill its Chinese ``msgstr``s from ``fragment`` (a ``.po`` file).

    Holds an exclusive lock so that concurrent merges do not overwrite each other's work.
    Returns the number of messages taken from the fragment."""
    import fcntl

    from babel.messages.pofile import read_po, write_po

    with open("/tmp/liaison-i18n.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        update([root_name])
        with fragment.open("rb") as handle:
            source = read_po(handle)
        root = next(r for r in catalog_roots() if r.name == root_name)
        po = root / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as handle:
            catalog = read_po(handle, locale="zh_Hans_CN")
        taken = 0
        for message in source:
            if not message.id or not message.string:
                continue
            target = catalog.get(message.id, message.context)
            if target is not None:
                target.string = message.string
                target.flags.discard("fuzzy")
                taken += 1
        with po.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True, no_location=True,
                     ignore_obsolete=True)
        compile_all()
    return taken


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update(argv[1:] or None)
    elif argv[:1] == ["merge"] and len(argv) in (2, 3):
        taken = merge(Path(argv[1]), *(argv[2:] or ["liaison"]))
        print(f"took {taken} translation(s) from {argv[1]}")
    elif argv == ["compile"]:
        compile_all()
    else:
        print("usage: python -m liaison.i18n_tools update [liaison|<plugin> ...] | compile | merge FRAGMENT.po [root]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
