"""`portineria` — what a technician runs (typer). Every failure is one sentence on stderr
(`portineria: …`) and exit status 1, never a traceback; `--json` (before or after the
command) prints one JSON document for scripts; every command's --help ends with an example.

hubs in the fleet, and logging in (tools/enrolcli.py):
    portineria provision [--out FLASH_DIR | --port DEV] [--keys ota.keys] [--label DIR] ...
    portineria reprovision HUB_ID [--out FLASH_DIR | --port DEV] [...]
    portineria claim CODE [--condominium ID]
    portineria revoke HUB_ID [--reason TEXT]
    portineria token --email LOGIN      (a bearer token for PORTINERIA_TOKEN)
a hub on its serial port (tools/devicecli.py):
    portineria deploy --port DEV [--identity FILE] [--config FILE] [--keys FILE]
    portineria console --port DEV [--seconds N] [--restart]
    portineria doctor --port DEV
    portineria flash --port DEV --image FIRMWARE.bin [--baud N] [--no-erase]
    portineria emulate HUB_DIR          (an emulated hub on a pty, to try the tools on)
over-the-air updates (tools/otacli.py, tools/rolloutcli.py):
    portineria release keygen|pubkey|trust|build|upload|list ...
    portineria rollout create|status|start|pause|resume|cancel ...

This module puts them together under the global options (tools/cliopts.py) and turns
every failure into that one sentence. How the fleet is reached: tools/fleetapi.py.
"""

import sys
from typing import Annotated

import typer
from typer.exceptions import TyperException

from tools import devicecli, enrolcli, otacli, rolloutcli
from tools.cliopts import JsonOpt, Opts
from tools.errors import ToolError

app = typer.Typer(
    name="portineria",
    help="Portineria technician tools: provision, flash, deploy, check and update hubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(enrolcli.commands)
app.add_typer(devicecli.commands)
app.add_typer(otacli.release_app, name="release")
app.add_typer(rolloutcli.rollout_app, name="rollout")


@app.callback()
def _global(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    server: Annotated[
        str | None, typer.Option(help="fleet API base URL (PORTINERIA_SERVER)")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="bearer token (better: PORTINERIA_TOKEN)")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="database URL: use the fleet's services directly")
    ] = None,
):
    ctx.obj = Opts(as_json, server, token, database)


def main(argv=None):
    """Run `portineria` with argv (default sys.argv[1:]); returns the exit status."""
    try:
        result = app(args=argv, prog_name="portineria", standalone_mode=False)
    except ToolError as e:
        print(f"portineria: {e}", file=sys.stderr)
        return 1
    except typer.Exit as e:
        return e.exit_code
    except (KeyboardInterrupt, typer.Abort):
        return 130
    except TyperException as e:  # a usage mistake (typer's click)
        if type(e).__name__ == "NoArgsIsHelpError":  # `portineria` alone: the help
            print(e.ctx.get_help())
            return 2
        print(f"portineria: {e.format_message().rstrip('.')}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"portineria: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as e:  # a bug, not a user mistake: still one line, named
        print(f"portineria: internal error ({type(e).__name__}); please report it", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0
