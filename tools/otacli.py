"""`portineria release …`: building, signing and uploading over-the-air updates.

keygen|pubkey|trust|build work on this machine (tools/release.py: the release key never
goes near the fleet); upload|list talk to the fleet's REST API (/api/releases; technicians
and admins). Rolling a release out to hubs: tools/rolloutcli.py.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from tools import fleetapi, release
from tools.cliopts import JsonOpt, example, opts
from tools.errors import ToolError

release_app = typer.Typer(
    help="Build, sign and upload application releases.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _emit(o, value, text):
    print(json.dumps(value) if o.json else text)


@release_app.command(epilog=example("portineria release keygen ~/keys/release-2026.key"))
def keygen(
    ctx: typer.Context,
    keyfile: Annotated[str, typer.Argument(help="where the new private key goes (0600)")],
    as_json: JsonOpt = False,
):
    """Create a release key (Ed25519); never overwrites one."""
    pub = release.create_key(keyfile)
    kid = release.kid_of(pub).hex()
    _emit(
        opts(ctx, as_json),
        {"keyfile": keyfile, "kid": kid, "public": pub.hex()},
        f"release key written to {keyfile}; kid {kid} public {pub.hex()}",
    )


@release_app.command(epilog=example("portineria release pubkey ~/keys/release-2026.key"))
def pubkey(
    ctx: typer.Context,
    keyfile: Annotated[str, typer.Argument(help="a key file, or 64 hex digits")],
    as_json: JsonOpt = False,
):
    """Show a key's kid and public key (hex)."""
    pub = release.load_public_key(keyfile)
    kid = release.kid_of(pub).hex()
    _emit(opts(ctx, as_json), {"kid": kid, "public": pub.hex()}, f"kid {kid} public {pub.hex()}")


@release_app.command(epilog=example("portineria release trust hub-new ~/keys/release-2026.key"))
def trust(
    ctx: typer.Context,
    flash_dir: Annotated[str, typer.Argument(help="where ota.keys goes")],
    keys: Annotated[list[str], typer.Argument(help="key files or hex public keys (1-4)")],
    as_json: JsonOpt = False,
):
    """Write the release keys a hub trusts (ota.keys), for provision or deploy --keys."""
    if not 1 <= len(keys) <= 4:
        raise ToolError("a hub trusts one to four release keys")
    public = [release.load_public_key(k) for k in keys]
    path = Path(flash_dir) / "ota.keys"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(release.trusted_keys(public))
    _emit(
        opts(ctx, as_json),
        {"path": str(path), "kids": [release.kid_of(k).hex() for k in public]},
        f"{path}: {len(public)} trusted release key(s)",
    )


@release_app.command(
    epilog=example("portineria release build --key release.key --version 0.2.0 --seq 7 --out r7")
)
def build(
    ctx: typer.Context,
    key: Annotated[str, typer.Option(help="the private release key file")],
    version: Annotated[str, typer.Option(help="the version hubs will report")],
    seq: Annotated[int, typer.Option(help="sequence number, higher than any before")],
    out: Annotated[str, typer.Option(help="directory for bundle.bin and manifest.cose")],
    hw: Annotated[str, typer.Option(help="hardware class")] = release.DEFAULT_HW,
    firmware: Annotated[str, typer.Option(help="the hub's firmware/")] = str(
        release.ROOT / "firmware"
    ),
    protocol: Annotated[str, typer.Option(help="protocol/")] = str(release.ROOT / "protocol"),
    trial: Annotated[
        str, typer.Option(help="BOOTS,SECONDS the new app has to prove itself")
    ] = ",".join(map(str, release.DEFAULT_TRIAL)),
    rotate: Annotated[
        list[str] | None, typer.Option(help="a new trusted key list (repeat per key)")
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(help="release this MicroPython firmware image (ESP32 app .bin) instead"),
    ] = None,
    as_json: JsonOpt = False,
):
    """Build and sign a release: bundle.bin and manifest.cose in --out. With --image, of
    the MicroPython image itself, which hubs write into their next OTA partition."""
    o = opts(ctx, as_json)
    try:
        boots, seconds = (int(x) for x in trial.split(","))
    except ValueError:
        raise ToolError("--trial wants BOOTS,SECONDS, e.g. 3,300") from None
    if image and rotate:
        raise ToolError("--rotate goes with an application release: a key list lives in its slot")
    keys = [release.load_public_key(k) for k in rotate] if rotate else None
    private = release.load_private_key(key)
    if image:
        cose, bundle, m = release.build_image(private, image, version, seq, hw, (boots, seconds))
    else:
        with _counting(o, "compiling") as tick:
            cose, bundle, m = release.build(
                private, version, seq, hw, firmware, protocol, (boots, seconds), keys, tick=tick
            )
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.cose").write_bytes(cose)
    (folder / "bundle.bin").write_bytes(bundle)
    digest = m[release.M_DIGEST].hex()
    _emit(
        o,
        {
            "version": version,
            "seq": seq,
            "component": m[release.M_COMPONENT],
            "hardware": hw,
            "files": len(m[release.M_FILES]),
            "size": len(bundle),
            "sha256": digest,
            "out": str(folder),
        },  # fmt: skip
        f"{m[release.M_COMPONENT]} release {version} seq {seq} for {hw}: "
        f"{len(m[release.M_FILES])} files, bundle "
        f"{len(bundle)} bytes sha256 {digest}, manifest {len(cose)} bytes",
    )


class _counting:
    """A rich progress bar fed by release.collect's tick(total) / tick(None)."""

    def __init__(self, o, what):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn(what),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=o.json or not console.is_terminal,
        )
        self.task = None

    def __enter__(self):
        self.progress.start()
        return self.tick

    def tick(self, total):
        if self.task is None:
            self.task = self.progress.add_task("", total=total)
        else:
            self.progress.advance(self.task)

    def __exit__(self, *exc):
        self.progress.stop()


def _release_line(r):
    return (
        f"release {r['id']}: {r['version']} seq {r['seq']} for {r['hardware']}, {r['size']} bytes"
    )


@release_app.command(
    epilog=example(
        "PORTINERIA_SERVER=https://fleet.example PORTINERIA_TOKEN=… \\",
        "  portineria release upload r7",
    )  # fmt: skip
)
def upload(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(help="what `release build --out` wrote")],
    as_json: JsonOpt = False,
):
    """Upload a built release (manifest.cose and bundle.bin) to the fleet."""
    o = opts(ctx, as_json)
    files = {}
    for name in ("manifest.cose", "bundle.bin"):
        try:
            files[name.split(".")[0]] = (name, (Path(folder) / name).read_bytes())
        except OSError:
            raise ToolError(f"{folder} has no {name}: build the release first") from None
    r = fleetapi.call(o, "POST", "/api/releases", files=files)
    _emit(o, r, _release_line(r) + ", stored by the fleet")


@release_app.command("list", epilog=example("portineria release list"))
def list_releases(ctx: typer.Context, as_json: JsonOpt = False):
    """The releases the fleet holds."""
    o = opts(ctx, as_json)
    rs = fleetapi.call(o, "GET", "/api/releases")
    _emit(o, rs, "\n".join(map(_release_line, rs)) or "no releases")
