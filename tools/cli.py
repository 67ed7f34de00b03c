"""`portineria` — what a technician runs. One table of commands; every failure is one
sentence on stderr (`portineria: …`) and exit status 1, never a traceback.

    portineria provision --out FLASH_DIR [--ssid NET --wkey KEY] [--label DIR] [--json]
    portineria reprovision HUB_ID --out FLASH_DIR [...]
    portineria revoke HUB_ID [--reason TEXT]
    portineria deploy --port DEV [--identity FILE] [--config FILE] [--keys FILE]
    portineria console --port DEV [--seconds N] [--restart]
    portineria doctor --port DEV
    portineria flash --port DEV --image FIRMWARE.bin [--baud N] [--no-erase]

deploy, console and doctor talk to the hub's MicroPython REPL over its USB serial port
(an emulated hub's pty works the same); flash writes MicroPython itself with esptool.

Two ways to reach the fleet:
- the server's API (the normal way): --server URL (or PORTINERIA_SERVER) and a bearer
  token of a technician or admin in PORTINERIA_TOKEN (kept out of `ps` and shell
  history; --token exists for scripts);
- --database URL: straight through the fleet's services, for a local setup on the
  server's own machine. It needs the server's FLEET_SECRET_KEY in the environment,
  since it seals the hub's secret itself; changes are audited without a user.

The hub's Master Secret crosses the wire once, in the provisioning answer, and goes
only into FLASH_DIR/identity.cbor (mode 0600). Wi-Fi credentials never leave this
machine. The claim code and its QR code (PNG and SVG, for the label on the box) are
printed and written to the label directory.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from tools import identity as identity_file
from tools.deploy import DeviceError


class CLIError(Exception):
    """A user-facing failure: its message is the whole story."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


# --- reaching the fleet ----------------------------------------------------------------


def _http(args):
    import httpx

    server = args.server or os.environ.get("PORTINERIA_SERVER")
    token = args.token or os.environ.get("PORTINERIA_TOKEN")
    if not server:
        raise CLIError(
            "say where the fleet is: --server URL (or PORTINERIA_SERVER) or --database URL"
        )
    if not token:
        raise CLIError("set PORTINERIA_TOKEN to a technician's bearer token")
    return httpx.Client(base_url=server, headers={"Authorization": "Bearer " + token}, timeout=30)


def _call(args, method, path, body=None):
    """JSON from the fleet's API, or a CLIError naming what went wrong."""
    import httpx

    try:
        with _http(args) as client:
            resp = client.request(method, path, json=body)
    except httpx.HTTPError as e:
        raise CLIError(
            f"cannot reach the fleet at {e.request.url.host}: {type(e).__name__}"
        ) from None
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail")
        except ValueError:
            detail = None
        if not isinstance(detail, str):
            detail = resp.reason_phrase or "error"
        raise CLIError(f"the fleet refused: {detail} (HTTP {resp.status_code})")
    return resp.json()


def _identity_from_api(answer):
    ident = dict(answer["identity"])
    for key in ("sid", "rid", "ms", "salt"):
        ident[key] = bytes.fromhex(ident[key])
    return answer["hub_id"], answer.get("claim_code"), ident


def _local_call(args, fn):
    """fn(settings, db) in --database mode, its failures turned into CLIErrors."""
    from sqlalchemy.exc import SQLAlchemyError

    from fleet.db import make_engine, session
    from fleet.services import enrolment
    from fleet.services.enrolment import EnrolmentError
    from fleet.settings import Settings

    try:
        settings = Settings(database_url=args.database).check()
    except RuntimeError as e:
        raise CLIError(str(e)) from None
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as db:
            if not enrolment.key_opens_secrets(db, settings):
                raise CLIError("FLEET_SECRET_KEY is not the fleet server's: set the same key")
            return fn(settings, db)
    except EnrolmentError as e:
        raise CLIError(str(e)) from None
    except SQLAlchemyError as e:
        raise CLIError(
            f"database error: {type(e).__name__} (is it migrated and reachable?)"
        ) from None
    finally:
        engine.dispose()


# --- commands --------------------------------------------------------------------------


def _wifi(args):
    extra = {"ssid": args.ssid, "wkey": args.wkey}
    for key in ("ack", "buzzer", "led"):
        if getattr(args, key) is not None:
            extra[key] = getattr(args, key)
    return extra


def _check_out(args):
    out = Path(args.out)
    if (out / "identity.cbor").exists() and not args.force:
        raise CLIError(f"{out}/identity.cbor exists: that hub is provisioned (use --force)")
    if out.exists() and not out.is_dir():
        raise CLIError(f"{out} is not a directory")


def _finish(args, hub_id, code, ident):
    """Write identity.cbor and the label, report what was done."""
    ident.update(_wifi(args))
    if args.host:
        ident["host"] = args.host
    if args.port:
        ident["port"] = args.port
    try:
        path = identity_file.write(args.out, ident)
    except (identity_file.IdentityError, OSError) as e:
        # The fleet already knows the hub: say which, so it can be revoked or reprovisioned.
        raise CLIError(f"hub {hub_id} made, but its identity was not written: {e}") from None
    report = {"hub": hub_id, "identity": str(path), "claim_code": None}
    if code is not None:
        report.update(_label(args, hub_id, code))
    if args.json:
        print(json.dumps(report))
        return
    print(f"hub {hub_id}: identity written to {path}")
    if code is not None:
        print(f"claim code: {report['claim_code']}  ({report['claim_url']})")
        print(f"label: {report['label_png']}, {report['label_svg']}")
    else:
        print("the hub keeps its condominium: no claim code")


def _label(args, hub_id, code):
    import segno

    from fleet.services import enrolment

    url = args.claim_base.rstrip("/") + "/claim?code=" + code
    qr = segno.make(url, error="m")
    folder = Path(args.label)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{hub_id}-label.png", folder / f"{hub_id}-label.svg"
    qr.save(png, scale=6)
    qr.save(svg, scale=4)
    if not args.json:
        qr.terminal(compact=True)
    return {
        "claim_code": enrolment.format_code(code),
        "claim_url": url,
        "label_png": str(png),
        "label_svg": str(svg),
    }


def cmd_provision(args):
    _check_out(args)
    if args.database:
        from fleet.services import enrolment

        def run(settings, db):
            p = enrolment.provision(db, settings, None, hardware=args.hardware)
            args.claim_base = args.claim_base or settings.public_url
            return p.hub.hub_id, p.claim_code, p.identity

        hub_id, code, ident = _local_call(args, run)
    else:
        answer = _call(args, "POST", "/api/enrolment/provision", {"hardware": args.hardware})
        args.claim_base = args.claim_base or args.server or os.environ["PORTINERIA_SERVER"]
        hub_id, code, ident = _identity_from_api(answer)
    _finish(args, hub_id, code, ident)


def cmd_reprovision(args):
    _check_out(args)
    if args.database:
        from fleet.services import enrolment

        def run(settings, db):
            p = enrolment.reprovision(db, settings, enrolment.get_hub(db, args.hub), None)
            args.claim_base = args.claim_base or settings.public_url
            return p.hub.hub_id, p.claim_code, p.identity

        hub_id, code, ident = _local_call(args, run)
    else:
        answer = _call(args, "POST", f"/api/enrolment/hubs/{args.hub}/reprovision")
        args.claim_base = args.claim_base or args.server or os.environ["PORTINERIA_SERVER"]
        hub_id, code, ident = _identity_from_api(answer)
    _finish(args, hub_id, code, ident)


def cmd_revoke(args):
    if args.database:
        from fleet.services import enrolment

        def run(settings, db):
            enrolment.revoke(db, enrolment.get_hub(db, args.hub), None, reason=args.reason)

        _local_call(args, run)
    else:
        _call(args, "POST", f"/api/enrolment/hubs/{args.hub}/revoke", {"reason": args.reason})
    if args.json:
        print(json.dumps({"hub": args.hub, "state": "revoked"}))
    else:
        print(f"hub {args.hub}: revoked")


def _say(args):
    return None if args.json else (lambda text: print(text, file=sys.stderr))


def cmd_deploy(args):
    from tools import deploy

    report = deploy.deploy(
        _port(args),
        identity=args.identity,
        config=args.config,
        keys=args.keys,
        version=args.app_version,
        baud=args.baud,
        quiet=args.json,
        say=_say(args),
    )
    deploy.main_print(report, args.json)


def cmd_console(args):
    from tools import console

    console.follow(_port(args), seconds=args.seconds, restart=args.restart, as_json=args.json)


def cmd_doctor(args):
    from tools import doctor

    checks = doctor.examine(_port(args), baud=args.baud)
    doctor.show(checks, args.json)
    if any(not c["ok"] for c in checks):
        raise SystemExit(2)  # the report is the message: no extra line


def cmd_flash(args):
    from tools import flash

    report = flash.flash(
        _port(args),
        args.image,
        bauds=args.baud,
        erase=not args.no_erase,
        say=_say(args),
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['chip']}: MicroPython written and verified at {report['baud']} baud")


def _port(args):
    port = args.port or os.environ.get("PORTINERIA_PORT")
    if not port:
        raise CLIError("say which serial port the hub is on: --port DEV (or PORTINERIA_PORT)")
    return port


DEVICE_COMMANDS = {
    "deploy": (
        cmd_deploy,
        "copy the application, configuration and identity to a hub, check, reset",
        "portineria deploy --port /dev/ttyUSB0 --identity hub-0a1b2c3d4e/identity.cbor",
    ),
    "console": (
        cmd_console,
        "follow a hub's log live (Ctrl-C to stop)",
        "portineria console --port /dev/ttyUSB0 --restart",
    ),
    "doctor": (
        cmd_doctor,
        "check a hub's health: Wi-Fi, fleet, clock, sensors, memory, queue, flash",
        "portineria doctor --port /dev/ttyUSB0",
    ),
    "flash": (
        cmd_flash,
        "write MicroPython onto an ESP32 with esptool (erase, write, verify)",
        "portineria flash --port /dev/ttyUSB0 --image ESP32_GENERIC-v1.24.1.bin",
    ),
}

COMMANDS = {
    "provision": (cmd_provision, "make a new hub and write its identity.cbor"),
    "reprovision": (cmd_reprovision, "give a hub a new secret (its old one stops working)"),
    "revoke": (cmd_revoke, "refuse a hub from now on"),
}


def _parser():
    parser = _Parser(prog="portineria", description="Portineria technician tools")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    fleet = parser.add_argument_group("how to reach the fleet")
    fleet.add_argument("--server", help="fleet API base URL (PORTINERIA_SERVER)")
    fleet.add_argument("--token", help="bearer token (better: PORTINERIA_TOKEN)")
    fleet.add_argument("--database", help="database URL: use the services directly")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (fn, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(fn=fn)
        if name != "provision":
            p.add_argument("hub", help="hub id, e.g. hub-0a1b2c3d4e")
        if name == "revoke":
            p.add_argument("--reason", default="", help="why, for the audit log")
            continue
        p.add_argument("--out", required=True, help="the hub's flash directory")
        p.add_argument("--force", action="store_true", help="overwrite identity.cbor")
        p.add_argument("--label", default=".", help="where the label PNG and SVG go")
        p.add_argument("--claim-base", help="URL the QR code points at (the fleet's)")
        p.add_argument("--hardware", default="esp32")
        p.add_argument("--host", help="fleet address the hub uses (server's setting)")
        p.add_argument("--port", type=int, help="fleet CoAP port the hub uses")
        p.add_argument("--ssid", default="", help="Wi-Fi network of the flat")
        p.add_argument("--wkey", default="", help="Wi-Fi key (stays on this machine)")
        p.add_argument("--ack", type=int, help="CoAP ACK_TIMEOUT ms (test benches)")
        p.add_argument("--buzzer", type=int, help="GPIO of the panic buzzer")
        p.add_argument("--led", type=int, help="GPIO of the panic LED")
    for name, (fn, text, example) in DEVICE_COMMANDS.items():
        p = sub.add_parser(
            name,
            help=text,
            description=text,
            epilog="example:\n  " + example,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(fn=fn)
        p.add_argument("--port", help="the hub's serial port (PORTINERIA_PORT)")
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        if name == "flash":
            p.add_argument("--image", required=True, help="MicroPython .bin for ESP32")
            p.add_argument(
                "--baud",
                type=int,
                action="append",
                help="baud rate to try (repeat for fallbacks; default 460800 then 115200)",
            )
            p.add_argument("--no-erase", action="store_true", help="keep the filesystem")
            continue
        p.add_argument("--baud", type=int, default=115200, help="serial speed")
        if name == "deploy":
            p.add_argument("--identity", help="identity.cbor from `portineria provision`")
            p.add_argument("--config", help="a config.cbor to start with")
            p.add_argument("--keys", help="ota.keys: trusted release keys")
            p.add_argument("--app-version", help="version to report (default: the source's)")
        elif name == "console":
            p.add_argument("--seconds", type=float, help="stop after this long")
            p.add_argument("--restart", action="store_true", help="soft-reboot into the app")
    return parser


def main(argv=None):
    try:
        args = _parser().parse_args(argv)
        args.fn(args)
    except (CLIError, DeviceError) as e:
        print(f"portineria: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"portineria: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as e:  # a bug, not a user mistake: still one line, named
        print(f"portineria: internal error ({type(e).__name__}); please report it", file=sys.stderr)
        return 1
    return 0
