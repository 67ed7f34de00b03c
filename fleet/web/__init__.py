"""The web pages: server-rendered with Jinja2 (templates/), a little htmx and our own
script (static/), Italian by default and English on request (i18n.py).

    fleet.web.install(app)   # what fleet.app.create_app calls: routes + HTML errors

Pages by role: caregivers /care and /residents/{id}; volunteers /condo, /claim and the
walk-test /hubs/{id}/walktest; technicians /fleet, /hubs/{id} and the over-the-air
updates /ota (otapages.py); admins /admin and all of the above; everyone /settings (how
alerts reach them) and their open alerts, live. Every page is behind login, but the
invitation /invite/{token} (invite.py), and reaches rows only through
fleet.services.scope; a row outside the user's scope is a 404 page, and so is an address
a browser asks for that does not exist (the API keeps its JSON).
"""

from starlette.exceptions import HTTPException

from fleet.web import (
    admin,
    alertpages,
    auth,
    caregiver,
    fleetpages,
    invite,
    otapages,
    settingspage,
    volunteer,
)
from fleet.web.pages import PageError, missing_page, page_error

ROUTERS = (
    auth.router,
    invite.router,
    caregiver.router,
    alertpages.router,
    volunteer.router,
    fleetpages.router,
    otapages.router,
    admin.router,
    settingspage.router,
)


def install(app):
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(HTTPException, missing_page)
    for router in ROUTERS:
        app.include_router(router)
