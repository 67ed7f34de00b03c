"""`portineria deploy|console|doctor|flash|emulate`: a hub on its serial port.

deploy, console and doctor talk to the hub's MicroPython REPL over its USB serial port
(an emulated hub's pty, from `emulate`, works the same); flash writes MicroPython itself
with esptool. The work is done in tools/deploy.py, console.py, doctor.py, flash.py and
emulate.py; this module is their command line.
"""

import json
from typing import Annotated

import typer

from tools.cliopts import BaudOpt, JsonOpt, PortOpt, Steps, example, opts, say, serial_port

commands = typer.Typer()


@commands.command(
    epilog=example("portineria deploy --port /dev/ttyUSB0 --identity hub-0a1b2c3d4e/identity.cbor")
)
def deploy(
    ctx: typer.Context,
    port: PortOpt = None,
    identity: Annotated[
        str | None, typer.Option(help="identity.cbor from `portineria provision`")
    ] = None,
    config: Annotated[str | None, typer.Option(help="a config.cbor to start with")] = None,
    keys: Annotated[str | None, typer.Option(help="ota.keys: trusted release keys")] = None,
    app_version: Annotated[
        str | None, typer.Option(help="version to report (default: the source's)")
    ] = None,
    baud: BaudOpt = 115200,
    as_json: JsonOpt = False,
):
    """Copy the application, configuration and identity to a hub, check every file's
    SHA-256 on the hub, reset it. A deploy cut short is finished by the next one."""
    from tools import deploy as deploying

    o = opts(ctx, as_json)
    report = deploying.deploy(
        serial_port(port),
        identity=identity,
        config=config,
        keys=keys,
        version=app_version,
        baud=baud,
        quiet=o.json,
        say=None if o.json else say(o),
    )
    deploying.main_print(report, o.json)


@commands.command(epilog=example("portineria console --port /dev/ttyUSB0 --restart"))
def console(
    ctx: typer.Context,
    port: PortOpt = None,
    seconds: Annotated[float | None, typer.Option(help="stop after this long")] = None,
    restart: Annotated[bool, typer.Option(help="soft-reboot into the app first")] = False,
    baud: BaudOpt = 115200,
    as_json: JsonOpt = False,
):
    """Follow a hub's log live (Ctrl-C to stop)."""
    from tools import console as following

    o = opts(ctx, as_json)
    following.follow(serial_port(port), seconds=seconds, restart=restart, as_json=o.json)


@commands.command(epilog=example("portineria doctor --port /dev/ttyUSB0"))
def doctor(
    ctx: typer.Context, port: PortOpt = None, baud: BaudOpt = 115200, as_json: JsonOpt = False
):
    """Check a hub's health: Wi-Fi, fleet, clock, sensors, memory, queue, flash.
    Exit status 2 when a check is red."""
    from tools import doctor as doctoring

    o = opts(ctx, as_json)
    with Steps(o, lines=False) as step:
        step("asking the hub")
        checks = doctoring.examine(serial_port(port), baud=baud)
    doctoring.show(checks, o.json)
    if any(not c["ok"] for c in checks):
        raise typer.Exit(2)  # the report is the message: no extra line


@commands.command(
    epilog=example("portineria flash --port /dev/ttyUSB0 --image ESP32_GENERIC-v1.24.1.bin")
)
def flash(
    ctx: typer.Context,
    image: Annotated[str, typer.Option(help="MicroPython .bin for the ESP32")],
    port: PortOpt = None,
    baud: Annotated[
        list[int] | None,
        typer.Option(help="baud rate to try (repeat for fallbacks; default 460800 then 115200)"),
    ] = None,
    no_erase: Annotated[bool, typer.Option("--no-erase", help="keep the filesystem")] = False,
    as_json: JsonOpt = False,
):
    """Write MicroPython onto an ESP32 with esptool: detect, erase, write, verify."""
    from tools import flash as flashing

    o = opts(ctx, as_json)
    with Steps(o) as step:
        report = flashing.flash(serial_port(port), image, bauds=baud, erase=not no_erase, say=step)
    if o.json:
        print(json.dumps(report))
    else:
        print(f"{report['chip']}: MicroPython written and verified at {report['baud']} baud")


@commands.command(
    epilog=example(
        "portineria emulate var/hub-try", "portineria deploy --port $(cat var/hub-try/tty)"
    )
)
def emulate(
    ctx: typer.Context,
    hub_dir: Annotated[str, typer.Argument(help="the emulated hub's directory (made if new)")],
    seconds: Annotated[float | None, typer.Option(help="power it off after this long")] = None,
    as_json: JsonOpt = False,
):
    """Run an emulated hub on a serial port (a pty) to use the tools on, until Ctrl-C."""
    from tools import emulate as emulating

    emulating.run(hub_dir, seconds, opts(ctx, as_json).json)
