"""How the tools reach the fleet.

- Its REST API (the normal way): --server URL (or PORTINERIA_SERVER) and the bearer token
  of a technician or admin in PORTINERIA_TOKEN (kept out of `ps` and shell history;
  --token exists for scripts).
- --database URL: straight through the fleet's services, for a local setup on the
  server's own machine. It needs the server's FLEET_SECRET_KEY in the environment, since
  it seals the hub's secret itself; changes are audited without a user.
"""

import os

from tools.errors import ToolError


def open_client(server, token):
    """An httpx client for the fleet (tests hand in one bound to the app itself)."""
    import httpx

    headers = {"Authorization": "Bearer " + token} if token else {}
    return httpx.Client(base_url=server, headers=headers, timeout=30)


def server_of(opts):
    server = opts.server or os.environ.get("PORTINERIA_SERVER")
    if not server:
        raise ToolError(
            "say where the fleet is: --server URL (or PORTINERIA_SERVER) or --database URL"
        )
    return server


def call(opts, method, path, body=None, files=None, auth=True):
    """The fleet API's JSON answer, or a ToolError naming what went wrong."""
    import httpx

    server = server_of(opts)
    token = (opts.token or os.environ.get("PORTINERIA_TOKEN")) if auth else None
    if auth and not token:
        raise ToolError("set PORTINERIA_TOKEN to a technician's bearer token")
    client = open_client(server, token)
    try:
        resp = client.request(method, path, json=body, files=files)
    except httpx.HTTPError as e:
        host = httpx.URL(server).host or server
        raise ToolError(f"cannot reach the fleet at {host}: {type(e).__name__}") from None
    finally:
        client.close()
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail")
        except (ValueError, AttributeError):
            detail = None
        if not isinstance(detail, str):
            detail = resp.reason_phrase or "error"
        raise ToolError(f"the fleet refused: {detail} (HTTP {resp.status_code})")
    return resp.json()


def local_call(opts, fn):
    """fn(settings, db) in --database mode, its failures turned into ToolErrors."""
    from sqlalchemy.exc import SQLAlchemyError

    from fleet.db import make_engine, session
    from fleet.services import enrolment
    from fleet.services.enrolment import EnrolmentError
    from fleet.settings import Settings

    try:
        settings = Settings(database_url=opts.database).check()
    except RuntimeError as e:
        raise ToolError(str(e)) from None
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as db:
            if not enrolment.key_opens_secrets(db, settings):
                raise ToolError("FLEET_SECRET_KEY is not the fleet server's: set the same key")
            return fn(settings, db)
    except EnrolmentError as e:
        raise ToolError(str(e)) from None
    except SQLAlchemyError as e:
        raise ToolError(
            f"database error: {type(e).__name__} (is it migrated and reachable?)"
        ) from None
    finally:
        engine.dispose()
