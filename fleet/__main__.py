"""`python -m fleet [--demo]`: the whole fleet server in one process and one event loop —
the HTTP API (FastAPI on uvicorn) and the CoAP endpoint the hubs talk to — after
bringing the database to the newest schema.

One process keeps the CoAP side's caches (security contexts, revocations through
enrolment.on_revoke) coherent with the API without any messaging between processes.
Settings come from FLEET_* variables or .env (fleet/settings.py); production mode
refuses the demo secret key and refuses --demo.
"""

import argparse
import asyncio
import errno
import functools
import logging
import socket
import sys

log = logging.getLogger("fleet")


def _parser():
    parser = argparse.ArgumentParser(prog="python -m fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seed demo users and data; print the logins once the server listens",
    )
    return parser


class CannotListen(Exception):
    """A port of ours cannot be opened; the message is one sentence for the operator."""


def _cannot_listen(e, host, port, variable):
    if e.errno == errno.EADDRINUSE:
        return CannotListen(f"port {port} is in use ({variable})")
    return CannotListen(f"cannot listen on {host}:{port} ({variable}): {e.strerror or e}")


def _http_socket(host, port, backlog):
    # Bound here, not by uvicorn, whose taken port is a log line and sys.exit(3).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=backlog)
    except OSError as e:
        raise _cannot_listen(e, host, port, "FLEET_HTTP_PORT") from e


def _print_demo_logins(settings, logins):
    # On stdout, not in the logs: these passwords are for the person at the terminal.
    print(f"Demo users for {settings.public_url} (new passwords on every --demo start):")
    for role, email, password in logins:
        print(f"  {role:<10} {email:<34} {password}")
    sys.stdout.flush()


async def serve(settings, engine, stop=None, ready=None):
    """Run HTTP and CoAP until uvicorn is told to stop (SIGINT/SIGTERM), or until the
    asyncio.Event `stop` is set by a caller running the server in-process. `ready()` is
    called once both listen. Raises CannotListen, before anything starts, if either port
    cannot be opened."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started and ready is not None:  # HTTP's sockets are bound by now
                ready()

    from fleet.alerts.runner import AlertRunner
    from fleet.app import create_app
    from fleet.coap import CoapServer

    host, port = settings.http_host, settings.http_port
    config = uvicorn.Config(
        create_app(settings, engine),
        host=host,
        port=port,
        log_config=None,  # keep fleet.logging's JSON lines
        proxy_headers=False,  # the claim rate limit counts addresses: trust none we did not see
    )
    http_socket = _http_socket(host, port, config.backlog)
    coap = CoapServer(settings, engine)
    try:
        await coap.start()
    except OSError as e:
        http_socket.close()
        raise _cannot_listen(e, settings.coap_host, settings.coap_port, "FLEET_COAP_PORT") from e
    alert_runner = AlertRunner(settings, engine)
    await alert_runner.start()
    server = Server(config)
    # uvicorn logs no address for sockets it is handed.
    log.info("HTTP API on %s:%s", host, http_socket.getsockname()[1])

    async def stop_when_asked():
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.ensure_future(stop_when_asked()) if stop is not None else None
    try:
        await server.serve(sockets=[http_socket])
    finally:
        if watcher is not None:
            watcher.cancel()
        await alert_runner.stop()
        await coap.stop()


def main(argv=None):
    from fleet import logging as fleet_logging
    from fleet.db import make_engine, migrate, session
    from fleet.settings import get_settings

    args = _parser().parse_args(argv)
    try:
        settings = get_settings()
    except (RuntimeError, ValueError) as e:
        print(f"fleet: {e}", file=sys.stderr)
        return 1
    if args.demo and settings.environment == "production":
        print("fleet: --demo is refused in production", file=sys.stderr)
        return 1
    fleet_logging.setup(settings)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    ready = None
    if args.demo:
        from fleet import demo

        with session(engine) as db:
            logins = demo.seed(db)
        # Only once CoAP and HTTP listen: whoever reads them may log in at once.
        ready = functools.partial(_print_demo_logins, settings, logins)
    try:
        asyncio.run(serve(settings, engine, ready=ready))
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled: a clean stop
        pass
    except CannotListen as e:  # one sentence, not a traceback
        print(f"fleet: {e}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
