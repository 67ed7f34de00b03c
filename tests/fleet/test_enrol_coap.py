"""Enrolment seen from the network, on SQLite and PostgreSQL: a hub configured only from
the identity.cbor that provisioning wrote (aiocoap's own OSCORE) is heard; once revoked
it is refused at once and after a server restart; re-provisioned, only its new identity
works."""

from aiocoap.numbers.codes import Code

from fleet.db import session
from fleet.models import Hub
from fleet.services import enrolment
from tests.fleet.coap_support import RawHub, aiocoap_context, make_settings, running
from tools import identity


async def ask_config(ident, port, directory):
    """The outer and (when it opened) inner response to GET c from this identity."""
    hub = RawHub(aiocoap_context(directory, ident), port)
    try:
        wire, request_id = hub.protect(Code.GET, "c")
        outer = await hub.send_raw(wire)
        if outer.code != Code.CHANGED:
            return outer.code, None
        return outer.code, hub.open(outer, request_id).code
    finally:
        hub.close()


async def test_revoked_hub_is_refused_now_and_after_restart(db_url, engine, tmp_path):
    settings = make_settings(db_url)
    with session(engine) as db:
        p = enrolment.provision(db, settings, None, port=5683)  # the server binds port 0
    identity.write(tmp_path / "flash", p.identity)
    ident = identity.read(tmp_path / "flash")
    async with running(settings, engine) as server:
        assert await ask_config(ident, server.port, tmp_path / "a") == (Code.CHANGED, Code.CONTENT)
        with session(engine) as db:
            enrolment.revoke(db, db.get(Hub, p.hub.id), None)
        # The server's cached context is gone with the revocation, not at some expiry.
        assert await ask_config(ident, server.port, tmp_path / "b") == (Code.UNAUTHORIZED, None)
    async with running(settings, engine) as server:
        assert await ask_config(ident, server.port, tmp_path / "c") == (Code.UNAUTHORIZED, None)
        with session(engine) as db:
            q = enrolment.reprovision(db, settings, db.get(Hub, p.hub.id), None, port=5683)
        identity.write(tmp_path / "flash", q.identity)
        new = identity.read(tmp_path / "flash")
        assert await ask_config(new, server.port, tmp_path / "d") == (Code.CHANGED, Code.CONTENT)
        assert await ask_config(ident, server.port, tmp_path / "e") == (Code.UNAUTHORIZED, None)
