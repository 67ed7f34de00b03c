"""`portineria provision|reprovision|claim|revoke|token`: hubs in the fleet and the
technician's login. With --database they call the fleet's services directly, otherwise
its REST API (tools/fleetapi.py).

The hub's Master Secret crosses the wire once, in the provisioning answer, and goes only
into FLASH_DIR/identity.cbor (mode 0600) or, with --port, straight onto the hub (checked
there by its SHA-256); it is never printed. Wi-Fi credentials never leave this machine
and the hub. The claim code is printed, and its label (QR code, code and hub id; PNG and
PDF at 50×30 mm, the QR alone as SVG) is written to the label directory.
"""

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from tools import fleetapi
from tools import identity as identity_file
from tools.cliopts import JsonOpt, PortOpt, example, opts
from tools.errors import ToolError

commands = typer.Typer()


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


def _make(o, target, extra, label_dir, claim_base, local, api):
    """Have the fleet make an identity — through its services with --database
    (`local(enrolment, settings, db)` returns an enrolment.Provisioned), else by POSTing
    `api` (path, body) — and write it where asked."""
    if o.database:
        from fleet.services import enrolment

        def run(settings, db):
            p = local(enrolment, settings, db)
            return p.hub.hub_id, p.claim_code, p.identity, settings.public_url

        hub_id, code, ident, base = fleetapi.local_call(o, run)
    else:
        answer = fleetapi.call(o, "POST", *api)
        ident = dict(answer["identity"])
        for key in ("sid", "rid", "ms", "salt"):
            ident[key] = bytes.fromhex(ident[key])
        hub_id, code, base = answer["hub_id"], answer.get("claim_code"), fleetapi.server_of(o)
    _finish(o, target, extra, label_dir, claim_base or base, hub_id, code, ident)


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


@commands.command(
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
    _make(
        opts(ctx, as_json),
        _Target(out, port, force, keys),
        _extra(ssid, wkey, ack, buzzer, led, host, coap_port),
        label,
        claim_base,
        lambda enrolment, settings, db: enrolment.provision(db, settings, None, hardware=hardware),
        ("/api/enrolment/provision", {"hardware": hardware}),
    )


@commands.command(
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
    _make(
        opts(ctx, as_json),
        _Target(out, port, force, keys),
        _extra(ssid, wkey, ack, buzzer, led, host, coap_port),
        label,
        claim_base,
        lambda enrolment, settings, db: enrolment.reprovision(
            db, settings, enrolment.get_hub(db, hub), None
        ),
        (f"/api/enrolment/hubs/{hub}/reprovision", None),
    )


@commands.command(epilog=example("portineria claim 0WYQ-TRW3-CHBB --condominium 1"))
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


@commands.command(
    epilog=example("portineria revoke hub-0a1b2c3d4e --reason 'stolen from the hall'")
)
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


@commands.command(
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
