"""A guard in front of aiocoap's UDP transport: every datagram is parsed with
protocol.coap.decode first, and one it refuses never reaches aiocoap.

aiocoap 0.4.17 raises UnicodeDecodeError inside its transport callback for invalid UTF-8
in Uri-Path/Uri-Query and logs a traceback per datagram (design.md, sharp edges); here
such a datagram gets protocol.coap.error_reply's answer (4.02 or 4.00 piggy-backed for a
CON request, RST otherwise) and is counted, with at most one log line per LOG_EVERY_S.
"""

import logging
import time

from aiocoap.messagemanager import MessageManager
from aiocoap.transports.udp6 import MessageInterfaceUDP6

from fleet import metrics
from protocol import coap
from protocol.errors import ProtocolError

log = logging.getLogger("fleet.coap")

LOG_EVERY_S = 60.0
MAX_DATAGRAM = 1152  # RFC 7252 §4.6; protocol/README.md limits


def udp_interfaces(context):
    for ri in context.request_interfaces:
        mm = getattr(ri, "token_interface", None)
        if isinstance(mm, MessageManager) and isinstance(
            mm.message_interface, MessageInterfaceUDP6
        ):
            yield mm.message_interface


def install(context):
    """Put the guard in front of every UDP interface of an aiocoap server context.
    Returns how many interfaces it guards (a server without one is a setup error)."""
    count = 0
    for iface in udp_interfaces(context):
        iface.datagram_msg_received = _guarded(iface, iface.datagram_msg_received)
        count += 1
    if not count:
        raise RuntimeError("no aiocoap UDP interface to guard")
    return count


def _guarded(iface, inner):
    last_log = [-LOG_EVERY_S]

    def datagram_msg_received(data, ancdata, flags, address):
        try:
            if len(data) > MAX_DATAGRAM:
                raise ProtocolError("datagram longer than 1152 bytes")
            coap.decode(data)
        except ProtocolError as e:
            reason = "malformed"
            metrics.rejected.inc(reason=reason)
            reply = coap.error_reply(data, e)
            if reply is not None:
                iface.transport.sendmsg(reply, [], 0, address)
            now = time.monotonic()
            if now - last_log[0] >= LOG_EVERY_S:
                last_log[0] = now
                log.warning("refused a malformed datagram (%s); more are only counted", e)
            return
        inner(data, ancdata, flags, address)

    return datagram_msg_received
