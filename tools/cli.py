"""`portineria` — what a technician runs (typer). Every failure is one sentence on stderr
(`portineria: …`) and exit status 1, never a traceback; `--json` (before or after the
command) prints one JSON document for scripts; every command's --help ends with an example.

    portineria provision [--out FLASH_DIR | --port DEV] [--keys ota.keys] [--label DIR] ...
    portineria reprovision HUB_ID [--out FLASH_DIR | --port DEV] [...]
    portineria revoke HUB_ID [--reason TEXT]
    portineria deploy --port DEV [--identity FILE] [--config FILE] [--keys FILE]
    portineria console --port DEV [--seconds N] [--restart]
    portineria doctor --port DEV
    portineria flash --port DEV --image FIRMWARE.bin [--baud N] [--no-erase]
    portineria emulate HUB_DIR          (an emulated hub on a pty, to try the tools on)
    portineria token --email LOGIN      (a bearer token for PORTINERIA_TOKEN)
    portineria release keygen|pubkey|trust|build|upload|list ...   (tools/otacli.py)
    portineria rollout create|status|start|pause|resume|cancel ... (tools/otacli.py)

deploy, console, doctor and provision --port talk to the hub's MicroPython REPL over its
USB serial port (an emulated hub's pty works the same); flash writes MicroPython itself
with esptool. How the fleet is reached: tools/fleetapi.py.

The hub's Master Secret crosses the wire once, in the provisioning answer, and goes only
into FLASH_DIR/identity.cbor (mode 0600) or, with --port, straight onto the hub (checked
there by its SHA-256); it is never printed. Wi-Fi credentials never leave this machine
and the hub. The claim code is printed, and its label (QR code, code and hub id; PNG and
PDF at 50×30 mm, the QR alone as SVG) is written to the label directory.
"""

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from tools import fleetapi
from tools import identity as identity_file
from tools.errors import ToolError

app = typer.Typer(
    name="portineria",
    help="Portineria technician tools: provision, flash, deploy, check and update hubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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


def say(o):
    """Progress lines for a person on stderr; nothing in --json mode."""
    return (lambda text: None) if o.json else (lambda text: print(text, file=sys.stderr))


def serial_port(port):
    port = port or os.environ.get("PORTINERIA_PORT")
    if not port:
        raise ToolError("say which serial port the hub is on: --port DEV (or PORTINERIA_PORT)")
    return port


# --- provisioning --------------------------------------------------------------------------


class _Target:
    """Where a new identity goes: FLASH_DIR (--out), the hub on --port, or both."""

    def __init__(self, out, port, force, keys):
        if out is None and port is None:
            raise ToolError("say where the identity goes: --out FLASH_DIR or --port DEV")
        self.out = Path(out) if out else None
        self.port = port
        self.keys = None
        if self.out is not None:
            if (self.out / "identity.cbor").exists() and not force:
                raise ToolError(
                    f"{self.out}/identity.cbor exists: that hub is provisioned (use --force)"
                )
            if self.out.exists() and not self.out.is_dir():
                raise ToolError(f"{self.out} is not a directory")
        if keys is not None:
            try:
                self.keys = Path(keys).read_bytes()
            except OSError as e:
                raise ToolError(f"cannot read {keys}: {e.strerror}") from None
        if port is not None and not Path(port).exists():
            raise ToolError(f"{port}: no such serial port (is the hub plugged in?)")


def _finish(o, target, extra, label_dir, claim_base, hub_id, code, ident):
    """Write identity.cbor (and ota.keys) where asked and the label; report what was done."""
    ident.update(extra)
    report = {"hub": hub_id, "identity": None, "claim_code": None}
    try:
        data = identity_file.encode(ident)
        if target.out is not None:
            report["identity"] = str(identity_file.write(target.out, ident))
            if target.keys is not None:
                (target.out / "ota.keys").write_bytes(target.keys)
        if target.port is not None:
            from tools import deploy

            files = {"identity.cbor": data}
            if target.keys is not None:
                files["ota.keys"] = target.keys
            digests = deploy.put(target.port, files, quiet=o.json)
            report["on_hub"] = {"port": target.port, "sha256": digests}
    except (ToolError, OSError) as e:
        # The fleet already knows the hub: say which, so it can be revoked or reprovisioned.
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise ToolError(f"hub {hub_id} made, but its identity was not written: {reason}") from None
    if code is not None:
        report.update(_label(o, label_dir, claim_base, hub_id, code))
    if o.json:
        print(json.dumps(report))
        return
    if report["identity"]:
        print(f"hub {hub_id}: identity written to {report['identity']}")
    if target.port is not None:
        print(f"hub {hub_id}: identity written to the hub on {target.port}, SHA-256 checked")
    if code is not None:
        print(f"claim code: {report['claim_code']}  ({report['claim_url']})")
        print(f"label: {report['label_pdf']}, {report['label_png']}, {report['label_svg']}")
    else:
        print("the hub keeps its condominium: no claim code")


def _label(o, folder, claim_base, hub_id, code):
    from fleet.services import enrolment
    from tools import labels

    code = enrolment.normalise_code(code)  # the API answers it formatted, services not
    url = claim_base.rstrip("/") + "/claim?code=" + code
    shown = enrolment.format_code(code)
    report = {"claim_code": shown, "claim_url": url}
    report.update(labels.write(folder, url, shown, hub_id))
    if not o.json:
        import segno

        segno.make(url, error="m").terminal(compact=True)
    return report


def _extra(ssid, wkey, ack, buzzer, led, host, coap_port):
    extra = {"ssid": ssid, "wkey": wkey}
    for key, value in (("ack", ack), ("buzzer", buzzer), ("led", led)):
        if value is not None:
            extra[key] = value
    if host:
        extra["host"] = host
    if coap_port:
        extra["port"] = coap_port
    return extra


def _identity_from_api(answer):
    ident = dict(answer["identity"])
    for key in ("sid", "rid", "ms", "salt"):
        ident[key] = bytes.fromhex(ident[key])
    return answer["hub_id"], answer.get("claim_code"), ident


Out = Annotated[str | None, typer.Option(help="the hub's flash directory (a copy on disk)")]
Force = Annotated[bool, typer.Option(help="overwrite identity.cbor in --out")]
Keys = Annotated[str | None, typer.Option(help="ota.keys to install beside the identity")]
Label = Annotated[str, typer.Option(help="where the label PDF, PNG and SVG go")]
ClaimBase = Annotated[str | None, typer.Option(help="URL the QR code points at (the fleet's)")]
Host = Annotated[str | None, typer.Option(help="fleet address the hub uses (server's setting)")]
CoapPort = Annotated[int | None, typer.Option(help="fleet CoAP port the hub uses")]
Ssid = Annotated[str, typer.Option(help="Wi-Fi network of the flat")]
Wkey = Annotated[str, typer.Option(help="Wi-Fi key (stays on this machine and the hub)")]
Ack = Annotated[int | None, typer.Option(help="CoAP ACK_TIMEOUT ms (test benches)")]
Buzzer = Annotated[int | None, typer.Option(help="GPIO of the panic buzzer")]
Led = Annotated[int | None, typer.Option(help="GPIO of the panic LED")]


@app.command(
    epilog=example(
        "portineria provision --port /dev/ttyUSB0 --ssid CASA --wkey KEY --label labels",
        "portineria --database sqlite:///var/fleet.db provision --out hub-new",
    )
)
def provision(
    ctx: typer.Context,
    out: Out = None,
    port: PortOpt = None,
    force: Force = False,
    keys: Keys = None,
    label: Label = ".",
    claim_base: ClaimBase = None,
    hardware: Annotated[str, typer.Option(help="the hub's hardware class")] = "esp32",
    host: Host = None,
    coap_port: CoapPort = None,
    ssid: Ssid = "",
    wkey: Wkey = "",
    ack: Ack = None,
    buzzer: Buzzer = None,
    led: Led = None,
    as_json: JsonOpt = False,
):
    """Make a new hub in the fleet and give it its identity (identity.cbor)."""
    o = opts(ctx, as_json)
    target = _Target(out, port, force, keys)
    extra = _extra(ssid, wkey, ack, buzzer, led, host, coap_port)
    if o.database:
        from fleet.services import enrolment

        def run(settings, db):
            p = enrolment.provision(db, settings, None, hardware=hardware)
            return p.hub.hub_id, p.claim_code, p.identity, settings.public_url

        hub_id, code, ident, base = fleetapi.local_call(o, run)
    else:
        answer = fleetapi.call(o, "POST", "/api/enrolment/provision", {"hardware": hardware})
        hub_id, code, ident = _identity_from_api(answer)
        base = fleetapi.server_of(o)
    _finish(o, target, extra, label, claim_base or base, hub_id, code, ident)


@app.command(
    epilog=example("portineria reprovision hub-0a1b2c3d4e --port /dev/ttyUSB0 --ssid CASA")
)
def reprovision(
    ctx: typer.Context,
    hub: Annotated[str, typer.Argument(help="hub id, e.g. hub-0a1b2c3d4e")],
    out: Out = None,
    port: PortOpt = None,
    force: Force = False,
    keys: Keys = None,
    label: Label = ".",
    claim_base: ClaimBase = None,
    host: Host = None,
    coap_port: CoapPort = None,
    ssid: Ssid = "",
    wkey: Wkey = "",
    ack: Ack = None,
    buzzer: Buzzer = None,
    led: Led = None,
    as_json: JsonOpt = False,
):
    """Give a hub a new secret (its old one stops working)."""
    o = opts(ctx, as_json)
    target = _Target(out, port, force, keys)
    extra = _extra(ssid, wkey, ack, buzzer, led, host, coap_port)
    if o.database:
        from fleet.services import enrolment

        def run(settings, db):
            p = enrolment.reprovision(db, settings, enrolment.get_hub(db, hub), None)
            return p.hub.hub_id, p.claim_code, p.identity, settings.public_url

        hub_id, code, ident, base = fleetapi.local_call(o, run)
    else:
        answer = fleetapi.call(o, "POST", f"/api/enrolment/hubs/{hub}/reprovision")
        hub_id, code, ident = _identity_from_api(answer)
        base = fleetapi.server_of(o)
    _finish(o, target, extra, label, claim_base or base, hub_id, code, ident)


@app.command(epilog=example("portineria claim 0WYQ-TRW3-CHBB --condominium 1"))
def claim(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="the label's claim code (or its QR code's URL)")],
    condominium: Annotated[
        int | None, typer.Option(help="condominium id (default: the only one you look after)")
    ] = None,
    as_json: JsonOpt = False,
):
    """Attach a provisioned hub to a condominium (a volunteer's or admin's token), as the
    claim page the label's QR code opens does. From then on the hub counts as online."""
    o = opts(ctx, as_json)
    if condominium is None:
        condos = fleetapi.call(o, "GET", "/api/condominiums")
        if len(condos) != 1:
            ids = ", ".join(f"{c['id']} ({c['name']})" for c in condos) or "none"
            raise ToolError(f"say which condominium: --condominium ID (yours: {ids})")
        condominium = condos[0]["id"]
    body = {"code": code, "condominium_id": condominium}
    state = fleetapi.call(o, "POST", "/api/enrolment/claim", body)
    if o.json:
        print(json.dumps(state))
    else:
        print(f"hub {state['hub_id']}: {state['state']}, condominium {state['condominium_id']}")


@app.command(epilog=example("portineria revoke hub-0a1b2c3d4e --reason 'stolen from the hall'"))
def revoke(
    ctx: typer.Context,
    hub: Annotated[str, typer.Argument(help="hub id, e.g. hub-0a1b2c3d4e")],
    reason: Annotated[str, typer.Option(help="why, for the audit log")] = "",
    as_json: JsonOpt = False,
):
    """Refuse a hub from now on."""
    o = opts(ctx, as_json)
    if o.database:
        from fleet.services import enrolment

        def run(settings, db):
            enrolment.revoke(db, enrolment.get_hub(db, hub), None, reason=reason)

        fleetapi.local_call(o, run)
    else:
        fleetapi.call(o, "POST", f"/api/enrolment/hubs/{hub}/revoke", {"reason": reason})
    if o.json:
        print(json.dumps({"hub": hub, "state": "revoked"}))
    else:
        print(f"hub {hub}: revoked")


# --- the hub on its serial port ------------------------------------------------------------


@app.command(
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


@app.command(epilog=example("portineria console --port /dev/ttyUSB0 --restart"))
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


@app.command(epilog=example("portineria doctor --port /dev/ttyUSB0"))
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


@app.command(
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


@app.command(
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


@app.command(
    epilog=example(
        "export PORTINERIA_SERVER=http://127.0.0.1:8000",
        "export PORTINERIA_TOKEN=$(portineria token --email tech@example.org)",
    )
)
def token(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="a technician's or admin's login")],
    name: Annotated[str, typer.Option(help="what the token is for (shown in the audit)")] = (
        "portineria"
    ),
    as_json: JsonOpt = False,
):
    """Log in and print a bearer token for PORTINERIA_TOKEN (password from
    PORTINERIA_PASSWORD, else asked for without echo)."""
    o = opts(ctx, as_json)
    password = os.environ.get("PORTINERIA_PASSWORD")
    if password is None:
        password = typer.prompt("password", hide_input=True, err=True)
    body = {"email": email, "password": password, "name": name}
    answer = fleetapi.call(o, "POST", "/api/tokens", body, auth=False)
    print(json.dumps(answer) if o.json else answer["access_token"])


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


def _register():
    from tools import otacli

    app.add_typer(otacli.release_app, name="release")
    app.add_typer(otacli.rollout_app, name="rollout")


_register()


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
