# CoAP Codes registry (RFC 7252 §12.1, RFC 7959 §2.9, RFC 8132, RFC 9175 §2.4).
# A code is one byte c.dd: class in the top 3 bits, detail in the low 5.

EMPTY = 0x00

# Method codes (class 0)
GET = 0x01
POST = 0x02
PUT = 0x03
DELETE = 0x04
FETCH = 0x05
PATCH = 0x06
IPATCH = 0x07

# Success (class 2)
CREATED = 0x41
DELETED = 0x42
VALID = 0x43
CHANGED = 0x44
CONTENT = 0x45
CONTINUE = 0x5F

# Client error (class 4)
BAD_REQUEST = 0x80
UNAUTHORIZED = 0x81
BAD_OPTION = 0x82
FORBIDDEN = 0x83
NOT_FOUND = 0x84
METHOD_NOT_ALLOWED = 0x85
NOT_ACCEPTABLE = 0x86
REQUEST_ENTITY_INCOMPLETE = 0x88
CONFLICT = 0x89
PRECONDITION_FAILED = 0x8C
REQUEST_ENTITY_TOO_LARGE = 0x8D
UNSUPPORTED_CONTENT_FORMAT = 0x8F
UNPROCESSABLE_ENTITY = 0x96
TOO_MANY_REQUESTS = 0x9D

# Server error (class 5)
INTERNAL_SERVER_ERROR = 0xA0
NOT_IMPLEMENTED = 0xA1
BAD_GATEWAY = 0xA2
SERVICE_UNAVAILABLE = 0xA3
GATEWAY_TIMEOUT = 0xA4
PROXYING_NOT_SUPPORTED = 0xA5
HOP_LIMIT_REACHED = 0xA8


def is_request(code):
    return 0 < code < 0x20


def is_response(code):
    return 0x40 <= code < 0xC0


def is_success(code):
    return 0x40 <= code < 0x60


def dotted(code):
    """Render a code the way the RFCs write it, e.g. 0x84 -> '4.04'."""
    return f"{code >> 5}.{code & 0x1F:02d}"
