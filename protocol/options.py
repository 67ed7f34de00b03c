# CoAP Option Numbers registry (RFC 7252 §5.10 and §12.2, RFC 7641, RFC 7959, RFC 7967,
# RFC 8613, RFC 8768, RFC 9175). Critical/unsafe/no-cache-key are properties of the number
# itself (RFC 7252 §5.4.6), so they are computed rather than tabulated.

IF_MATCH = 1
URI_HOST = 3
ETAG = 4
IF_NONE_MATCH = 5
OBSERVE = 6
URI_PORT = 7
LOCATION_PATH = 8
OSCORE = 9
URI_PATH = 11
CONTENT_FORMAT = 12
MAX_AGE = 14
URI_QUERY = 15
HOP_LIMIT = 16
ACCEPT = 17
LOCATION_QUERY = 20
BLOCK2 = 23
BLOCK1 = 27
SIZE2 = 28
PROXY_URI = 35
PROXY_SCHEME = 39
SIZE1 = 60
ECHO = 252
NO_RESPONSE = 258
REQUEST_TAG = 292

# Value formats (RFC 7252 §3.2)
EMPTY = 0
OPAQUE = 1
UINT = 2
STRING = 3

# number: (name, format, repeatable, min length, max length)
REGISTRY = {
    IF_MATCH: ("If-Match", OPAQUE, True, 0, 8),
    URI_HOST: ("Uri-Host", STRING, False, 1, 255),
    ETAG: ("ETag", OPAQUE, True, 1, 8),
    IF_NONE_MATCH: ("If-None-Match", EMPTY, False, 0, 0),
    OBSERVE: ("Observe", UINT, False, 0, 3),
    URI_PORT: ("Uri-Port", UINT, False, 0, 2),
    LOCATION_PATH: ("Location-Path", STRING, True, 0, 255),
    OSCORE: ("OSCORE", OPAQUE, False, 0, 255),
    URI_PATH: ("Uri-Path", STRING, True, 0, 255),
    CONTENT_FORMAT: ("Content-Format", UINT, False, 0, 2),
    MAX_AGE: ("Max-Age", UINT, False, 0, 4),
    URI_QUERY: ("Uri-Query", STRING, True, 0, 255),
    HOP_LIMIT: ("Hop-Limit", UINT, False, 1, 1),
    ACCEPT: ("Accept", UINT, False, 0, 2),
    LOCATION_QUERY: ("Location-Query", STRING, True, 0, 255),
    BLOCK2: ("Block2", UINT, False, 0, 3),
    BLOCK1: ("Block1", UINT, False, 0, 3),
    SIZE2: ("Size2", UINT, False, 0, 4),
    PROXY_URI: ("Proxy-Uri", STRING, False, 1, 1034),
    PROXY_SCHEME: ("Proxy-Scheme", STRING, False, 1, 255),
    SIZE1: ("Size1", UINT, False, 0, 4),
    ECHO: ("Echo", OPAQUE, False, 1, 40),
    NO_RESPONSE: ("No-Response", UINT, False, 0, 1),
    REQUEST_TAG: ("Request-Tag", OPAQUE, True, 0, 8),
}


def is_critical(number):
    return number & 1 == 1


def is_unsafe(number):
    return number & 2 == 2


def is_no_cache_key(number):
    return number & 0x1E == 0x1C


def name(number):
    entry = REGISTRY.get(number)
    return entry[0] if entry else f"Option{number}"


def is_valid(number, value, first=True):
    """Whether a known option's value fits the registry (length, format, repetition).

    `first` is False for a second or later occurrence of the same number. Unknown numbers
    are never valid: RFC 7252 §5.4.3-5 treat a bad length or a repeat of a non-repeatable
    option exactly like an unrecognised option, so one test serves both.
    """
    entry = REGISTRY.get(number)
    if entry is None:
        return False
    _, fmt, repeatable, lo, hi = entry
    if not (first or repeatable) or not lo <= len(value) <= hi:
        return False
    if fmt == STRING:
        try:
            str(value, "utf-8")
        except UnicodeError:
            return False
    return True
