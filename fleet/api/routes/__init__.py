"""Every router the app mounts under /api (ops is mounted at the root by fleet.app).
Append a new router here; fleet/app.py includes them all."""

from fleet.api.routes import (
    alerts,
    care_circles,
    condominiums,
    enrolment,
    flats,
    hubs,
    login,
    ota,
    residents,
    sensors,
    users,
)

ROUTERS = [
    login.router,
    users.router,
    condominiums.router,
    flats.router,
    residents.router,
    sensors.router,
    care_circles.router,
    hubs.router,
    enrolment.router,
    alerts.router,
    ota.router,
]
