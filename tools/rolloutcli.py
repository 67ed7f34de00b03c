"""`portineria rollout …`: rolling an uploaded release out to hubs in waves (campaigns),
watching it, pausing, resuming or cancelling it, through the fleet's REST API
(/api/campaigns; technicians and admins). Building and uploading it: tools/otacli.py.
"""

import json
from typing import Annotated

import typer

from tools import fleetapi
from tools.cliopts import JsonOpt, example, opts
from tools.errors import ToolError

rollout_app = typer.Typer(
    help="Roll a release out to hubs in waves, watch it, pause or cancel it.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _window(text):
    if text is None:
        return None
    parts = text.split("-")
    ok = len(parts) == 2 and all(len(p) == 5 and p[2] == ":" for p in parts)
    if not ok or not all(p.replace(":", "").isdigit() for p in parts):
        raise ToolError("--window wants START-END in local time, e.g. 22:00-06:00")
    return parts


def _waves(text):
    try:
        waves = [int(x) for x in text.split(",")]
    except ValueError:
        raise ToolError("--waves wants cumulative percentages, e.g. 1,10,50,100") from None
    return waves


@rollout_app.command(
    epilog=example(
        "portineria rollout create --release 3 --condominium 12 --waves 1,25,100 \\",
        "  --window 22:00-06:00 --start",
    )
)
def create(
    ctx: typer.Context,
    release_id: Annotated[int, typer.Option("--release", help="release id (release list)")],
    name: Annotated[str, typer.Option(help="a name people recognise")] = "",
    condominium: Annotated[
        list[int] | None, typer.Option(help="condominium id to target (repeat)")
    ] = None,
    hub: Annotated[list[str] | None, typer.Option(help="hub id to target (repeat)")] = None,
    from_version: Annotated[
        list[str] | None, typer.Option(help="only hubs running this version (repeat)")
    ] = None,
    hardware: Annotated[str | None, typer.Option(help="only this hardware class")] = None,
    waves: Annotated[str, typer.Option(help="cumulative percentages; a first 1 = one hub")] = (
        "1,10,50,100"
    ),
    success_share: Annotated[float, typer.Option(help="share updated before the next wave")] = 0.9,
    failure_share: Annotated[float, typer.Option(help="failed share that pauses it")] = 0.2,
    window: Annotated[str | None, typer.Option(help="maintenance window START-END, local")] = None,
    start: Annotated[bool, typer.Option(help="start it at once")] = False,
    as_json: JsonOpt = False,
):
    """Create a campaign rolling a release out to hubs (a draft unless --start)."""
    o = opts(ctx, as_json)
    body = {
        "release_id": release_id,
        "name": name,
        "condominium_ids": condominium or [],
        "hub_ids": hub or [],
        "from_versions": from_version or [],
        "hardware": hardware,
        "waves": _waves(waves),
        "success_share": success_share,
        "failure_share": failure_share,
        "window": _window(window),
        "start": start,
    }
    c = fleetapi.call(o, "POST", "/api/campaigns", body)
    _show(o, c)


@rollout_app.command(epilog=example("portineria rollout status 4", "portineria rollout status"))
def status(
    ctx: typer.Context,
    campaign: Annotated[int | None, typer.Argument(help="campaign id; none: list them")] = None,
    as_json: JsonOpt = False,
):
    """A campaign's waves and every hub's state (no id: all campaigns)."""
    o = opts(ctx, as_json)
    if campaign is None:
        cs = fleetapi.call(o, "GET", "/api/campaigns")
        if o.json:
            print(json.dumps(cs))
            return
        for c in cs:
            print(_headline(c))
        if not cs:
            print("no campaigns")
        return
    _show(o, fleetapi.call(o, "GET", f"/api/campaigns/{campaign}"))


def _headline(c):
    line = f"campaign {c['id']} {c['name']!r}: {c['state']}, release {c['release_id']}"
    if c.get("current_wave"):
        line += f", wave {c['current_wave']} of {len(c.get('waves') or [])}"
    if c.get("paused_reason"):
        line += f" (paused: {c['paused_reason']})"
    return line


def _show(o, c):
    if o.json:
        print(json.dumps(c))
        return
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    out.print(_headline(c))
    waves = Table("wave", "hubs", "updated", "failed", "in progress", title="waves")
    for w in c.get("waves") or []:
        row = (w["wave"], w["hubs"], w["updated"], w["failed"], w["in_progress"])
        waves.add_row(*map(str, row))
    out.print(waves)
    hubs = Table("hub", "wave", "state", "result", "detail", "updated", title="hubs")
    colour = {"updated": "green", "failed": "red"}
    for d in c.get("deployments") or []:
        state = d["state"]
        if state in colour:
            state = f"[{colour[state]}]{state}[/{colour[state]}]"
        hubs.add_row(
            d["hub_id"], str(d.get("wave", "")), state, d.get("result") or "",
            d.get("detail") or "", (d.get("updated_at") or "")[:19],
        )  # fmt: skip
    out.print(hubs)


def _act(action):
    def command(
        ctx: typer.Context,
        campaign: Annotated[int, typer.Argument(help="campaign id (rollout status)")],
        as_json: JsonOpt = False,
    ):
        o = opts(ctx, as_json)
        _show(o, fleetapi.call(o, "POST", f"/api/campaigns/{campaign}/{action}"))

    return command


def _pause(
    ctx: typer.Context,
    campaign: Annotated[int, typer.Argument(help="campaign id (rollout status)")],
    reason: Annotated[str, typer.Option(help="why, shown to everyone watching it")] = "",
    as_json: JsonOpt = False,
):
    o = opts(ctx, as_json)
    _show(o, fleetapi.call(o, "POST", f"/api/campaigns/{campaign}/pause", {"reason": reason}))


for _name, _fn, _text in (
    ("start", _act("start"), "Start a draft campaign: its first wave is offered the update."),
    ("pause", _pause, "Pause a campaign: no hub is offered the update until resumed."),
    ("resume", _act("resume"), "Resume a paused campaign."),
    ("cancel", _act("cancel"), "Cancel a campaign: unfinished hubs stay on their version."),
):
    _fn.__doc__ = _text
    rollout_app.command(_name, epilog=example(f"portineria rollout {_name} 4"))(_fn)
