# One error tree for the whole package: every leaf knows the CoAP response code a
# peer should be told, so a server simply maps the exception to a reply.

_BAD_REQUEST = 0x80  # 4.00
_UNAUTHORIZED = 0x81  # 4.01
_BAD_OPTION = 0x82  # 4.02


class ProtocolError(Exception):
    """Anything a peer sent, or a caller asked for, that the protocol refuses."""

    code = _BAD_REQUEST


class CBORError(ProtocolError):
    """Malformed, truncated, over-long or over-deep CBOR, or a value CBOR cannot hold."""


class CoAPError(ProtocolError):
    """A CoAP message that cannot be parsed or built."""


class BadOption(CoAPError):
    """An unrecognised critical option, or an option value out of range."""

    code = _BAD_OPTION


class OSCOREError(ProtocolError):
    """A message that fails OSCORE verification: forged, replayed or malformed."""

    code = _UNAUTHORIZED


class SenMLError(ProtocolError):
    """A SenML pack that is not well formed."""


class COSEError(ProtocolError):
    """A COSE structure that is malformed, or a signature that does not verify."""
