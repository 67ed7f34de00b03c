"""The fleet's HTTP side: `create_app(settings=None, engine=None) -> FastAPI`.

Every router in fleet.api.routes.ROUTERS is mounted under /api; the ops router
(/healthz, /metrics) at the root, where probers expect it. Settings and engine are held
on app.state for the dependencies in fleet.api.deps; by default they come from the
environment (fleet.settings.get_settings), never at import time.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fleet.web.pages import browsing, error_page

DESCRIPTION = """Portineria fleet server: condominiums, flats, residents, sensors, hubs,
users and care circles.

Log in with `POST /api/login` (session cookie, for the web) or `POST /api/tokens`
(bearer token, for tools). Every route states the roles it admits; rows outside a
user's scope answer 404 as if they did not exist."""


def _where(loc):
    # ("body", "email") -> "email"; the source of the field is noise to a reader.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


async def _readable_422(request: Request, exc: RequestValidationError):
    if browsing(request):
        # A page's address with a part of the wrong type (/residents/abc) names no page, as
        # a resident out of scope does; anything else is a request the page cannot use.
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        return error_page(request, 404 if in_path else 400)
    # FastAPI's default echoes the submitted input — passwords and bind keys included.
    errors = [
        {"field": _where(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
    ]
    sentence = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse(status_code=422, content={"detail": sentence, "errors": errors})


def create_app(settings=None, engine=None):
    from fleet import web
    from fleet.api.routes import ROUTERS, ops
    from fleet.db import make_engine
    from fleet.settings import get_settings

    settings = settings or get_settings()
    app = FastAPI(title="Portineria fleet", description=DESCRIPTION, version="0.1.0")
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.add_exception_handler(RequestValidationError, _readable_422)
    app.include_router(ops.router)
    for router in ROUTERS:
        app.include_router(router, prefix="/api")
    web.install(app)  # the web pages (fleet/web/)
    return app
