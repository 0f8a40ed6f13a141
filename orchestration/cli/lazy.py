"""Command groups imported only when they are run.

``kpihub --help`` lists every group with its one-line help, and every read command starts by
building the whole command tree; a group whose module pulls in a large package (the sandbox
imports the settings, its servers and the simulated company) would make all of them wait for
it. A :class:`LazyGroup` stands in the tree with its help line and imports the real group the
moment someone runs it or asks for its help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from collections.abc import Sequence


class LazyGroup(TyperGroup):
    """The group ``target`` (``"package.module:typer_app"``), imported on first use and mounted
    as ``app.add_typer(typer_app, name=name)`` would mount it.

    ``help`` is shown in the parent's command list before the module is imported, so it must
    say what the real group's help says; a test keeps the two equal."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name=name, help=help)
        self.target = target
        self._group: TyperGroup | None = None

    def load(self) -> TyperGroup:
        """The real group, imported and built once."""
        if self._group is None:
            module, _, attribute = self.target.partition(":")
            parent = typer.Typer()
            parent.add_typer(getattr(importlib.import_module(module), attribute), name=self.name)
            root = typer.main.get_group(parent)
            assert self.name is not None
            group = root.commands[self.name]
            assert isinstance(group, TyperGroup)
            self._group = group
        return self._group

    def make_context(
        self,
        info_name: str | None,
        args: Sequence[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        # click runs ``ctx.command``, so from here on the real group parses and runs.
        return self.load().make_context(info_name, list(args), parent=parent, **extra)

    def list_commands(self, ctx: Any) -> list[str]:
        return self.load().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.load().get_command(ctx, cmd_name)
