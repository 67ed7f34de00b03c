"""A hub's identity.cbor, written by provisioning: the map is checked by the hub's own
module (firmware/hub/identity.py), so a file the tools write is one the hub accepts."""

import importlib.util
from pathlib import Path

from tools.errors import ToolError

PATH = "identity.cbor"  # on the hub's flash root (firmware/hub/identity.py's PATH)
_SRC = Path(__file__).resolve().parents[1] / "firmware" / "hub" / "identity.py"


IdentityError = ToolError  # the map would not be accepted by a hub: says which field


def _hub_module():
    # Loaded from its file: firmware/ is the hub's import root, not a package of ours.
    spec = importlib.util.spec_from_file_location("_portineria_hub_identity", _SRC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(flash_dir, fields):
    """Write identity.cbor at the root of `flash_dir` (a mounted hub's flash copy or an
    emulated hub's flash directory); returns its path. Readable by the owner only."""
    data = encode(fields)
    path = Path(flash_dir) / PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(data)
    return path


def read(flash_dir):
    """The checked identity map from `flash_dir`, defaults filled in."""
    from protocol import cbor

    hub = _hub_module()
    return hub.check(cbor.loads((Path(flash_dir) / hub.PATH).read_bytes()))


def encode(fields):
    """identity.cbor's bytes for `fields`, checked as the hub checks them (for writing
    straight onto a hub, never onto this machine's disk)."""
    hub = _hub_module()
    try:
        return hub.dumps(fields)
    except hub.IdentityError as e:
        raise IdentityError(str(e)) from None
