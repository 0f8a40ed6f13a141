"""``kpihub connector new NAME``: the files of a new source, ready for the contract kit.

The scaffold is a working connector from the first minute: its example stream reads from its
twin and passes the kit, so an integration engineer changes a passing connector step by step
instead of debugging a blank page. Only the mapping is left unwritten, and its test says so.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from connectors.registry import discover
from connectors.testing import scaffold_files as files

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED = frozenset({"sdk", "testing", "registry", "connectors", "sandbox", "twins", "serve"})


class ScaffoldError(Exception):
    """The name cannot be used; the message says why in one line."""


def check_name(name: str, root: Path) -> None:
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"connector name {name!r} must be a lower-case Python identifier "
            "(letters, digits, underscores; starting with a letter)"
        )
    if name in RESERVED:
        raise ScaffoldError(f"connector name {name!r} is reserved")
    if name in discover():
        raise ScaffoldError(f"a connector named {name!r} already exists")
    for taken in (root / "connectors" / name, root / "sandbox" / "twins" / f"{name}.py"):
        if taken.exists():
            raise ScaffoldError(f"{taken} already exists")


def plan(name: str, root: Path) -> dict[Path, str]:
    fields = {"name": name, "title": name.replace("_", " ").title(), "upper": name.upper()}
    package = root / "connectors" / name
    return {
        package / "__init__.py": files.PACKAGE_INIT.format(**fields),
        package / "client.py": files.CLIENT.format(**fields),
        package / "streams.py": files.STREAMS.format(**fields),
        package / "records.py": files.RECORDS.format(**fields),
        package / "mapping.py": files.MAPPING.format(**fields),
        root / "sandbox" / "twins" / f"{name}.py": files.TWIN.format(**fields),
        root / "tests" / "connectors" / f"test_{name}.py": files.TEST.format(**fields),
    }


def scaffold(name: str, root: Path) -> list[Path]:
    """Write the new connector's files under ``root``; nothing is written if the name is bad.

    Under a separate ``root`` the folders are plain directories, not packages: ``connectors/``
    and ``sandbox/`` extend over every such folder on ``sys.path``, so ``root`` only needs to be
    on ``PYTHONPATH`` for the connector and its twin to be found."""
    check_name(name, root)
    written = plan(name, root)
    for path in written:
        if path.exists():
            raise ScaffoldError(f"{path} already exists")
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(written)
