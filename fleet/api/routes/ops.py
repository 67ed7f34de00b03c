"""Operations: `/healthz` for a load balancer or systemd watchdog, `/metrics` for
Prometheus. Neither needs a login and neither says anything about a resident."""

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(request: Request, response: Response):
    """200 when the database answers, 503 when it does not."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means the same thing to a prober: not healthy
        response.status_code = 503
        return {"status": "error", "database": "unreachable"}
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", response_class=Response)
def metrics(request: Request):
    """Prometheus text exposition (messages received, rejected by reason, hubs online)."""
    from fleet import metrics as fleet_metrics

    body = fleet_metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
