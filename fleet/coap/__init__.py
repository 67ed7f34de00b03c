"""The CoAP endpoint hubs talk to: `CoapServer(settings, engine)` (server.py)."""

from fleet.coap.server import CoapServer

__all__ = ["CoapServer"]
