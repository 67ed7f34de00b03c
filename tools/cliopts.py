"""What every `portineria` command shares: the global options (how to reach the fleet,
--json), option types used by several commands, and how progress is shown. The commands
live in tools/enrolcli.py, tools/devicecli.py, tools/otacli.py and tools/rolloutcli.py; tools/cli.py puts them
together."""

import os
import sys
from typing import Annotated

import typer

from tools.errors import ToolError


class Opts:
    """The options given before the command (how to reach the fleet, --json)."""

    def __init__(self, json=False, server=None, token=None, database=None):
        self.json, self.server, self.token, self.database = json, server, token, database


def example(*lines):
    """A command's epilog; click keeps a paragraph after \\b as written."""
    return "example:\n\n\b\n" + "\n".join("  " + line for line in lines)


JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
PortOpt = Annotated[
    str | None, typer.Option("--port", help="the hub's serial port (PORTINERIA_PORT)")
]
BaudOpt = Annotated[int, typer.Option(help="serial speed")]


def opts(ctx, as_json=False):
    """The global options, --json set when given before or after the command."""
    o = ctx.find_root().obj or Opts()
    o.json = o.json or as_json
    return o


def say(o):
    """Progress lines for a person on stderr; nothing in --json mode."""
    return (lambda text: None) if o.json else (lambda text: print(text, file=sys.stderr))


def serial_port(port):
    port = port or os.environ.get("PORTINERIA_PORT")
    if not port:
        raise ToolError("say which serial port the hub is on: --port DEV (or PORTINERIA_PORT)")
    return port


class Steps:
    """A pulsing rich progress bar naming the current step on a terminal; otherwise plain
    lines on stderr (logs keep them) if `lines`; nothing in --json mode."""

    def __init__(self, o, lines=True):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.quiet = o.json
        self.lines = lines
        self.progress = None

    def __enter__(self):
        if self.quiet or not self.console.is_terminal:
            return say(Opts()) if self.lines and not self.quiet else (lambda text: None)
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        task = self.progress.add_task("starting", total=None)
        return lambda text: self.progress.update(task, description=text)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
