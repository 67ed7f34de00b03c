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

try:
    from micropython import const
except ImportError:
    # Assigned rather than defined so the type checker keeps the stub's signature.
    def _identity(x):
        return x

    const = _identity


# number: format | repeatable << 2 | min length (0 or 1) << 3 | max length << 4. Small
# ints, so the table costs a hub only the dict itself (a tuple each cost a heap block).
_R = const(4)


def _spec(fmt, repeatable, lo, hi):
    return fmt | (_R if repeatable else 0) | lo << 3 | hi << 4


REGISTRY = {
    IF_MATCH: _spec(OPAQUE, True, 0, 8),
    URI_HOST: _spec(STRING, False, 1, 255),
    ETAG: _spec(OPAQUE, True, 1, 8),
    IF_NONE_MATCH: _spec(EMPTY, False, 0, 0),
    OBSERVE: _spec(UINT, False, 0, 3),
    URI_PORT: _spec(UINT, False, 0, 2),
    LOCATION_PATH: _spec(STRING, True, 0, 255),
    OSCORE: _spec(OPAQUE, False, 0, 255),
    URI_PATH: _spec(STRING, True, 0, 255),
    CONTENT_FORMAT: _spec(UINT, False, 0, 2),
    MAX_AGE: _spec(UINT, False, 0, 4),
    URI_QUERY: _spec(STRING, True, 0, 255),
    HOP_LIMIT: _spec(UINT, False, 1, 1),
    ACCEPT: _spec(UINT, False, 0, 2),
    LOCATION_QUERY: _spec(STRING, True, 0, 255),
    BLOCK2: _spec(UINT, False, 0, 3),
    BLOCK1: _spec(UINT, False, 0, 3),
    SIZE2: _spec(UINT, False, 0, 4),
    PROXY_URI: _spec(STRING, False, 1, 1034),
    PROXY_SCHEME: _spec(STRING, False, 1, 255),
    SIZE1: _spec(UINT, False, 0, 4),
    ECHO: _spec(OPAQUE, False, 1, 40),
    NO_RESPONSE: _spec(UINT, False, 0, 1),
    REQUEST_TAG: _spec(OPAQUE, True, 0, 8),
}

# Names for messages and logs only: one string in flash, no table on the heap.
_NAMES = (
    " 1 If-Match 3 Uri-Host 4 ETag 5 If-None-Match 6 Observe 7 Uri-Port 8 Location-Path"
    " 9 OSCORE 11 Uri-Path 12 Content-Format 14 Max-Age 15 Uri-Query 16 Hop-Limit"
    " 17 Accept 20 Location-Query 23 Block2 27 Block1 28 Size2 35 Proxy-Uri"
    " 39 Proxy-Scheme 60 Size1 252 Echo 258 No-Response 292 Request-Tag "
)


def is_critical(number):
    return number & 1 == 1


def is_unsafe(number):
    return number & 2 == 2


def is_no_cache_key(number):
    return number & 0x1E == 0x1C


def name(number):
    key = " " + str(number) + " "
    i = _NAMES.find(key)
    if i < 0:
        return "Option" + str(number)
    i += len(key)
    return _NAMES[i : _NAMES.index(" ", i)]


def is_valid(number, value, first=True):
    """Whether a known option's value fits the registry (length, format, repetition).

    `first` is False for a second or later occurrence of the same number. Unknown numbers
    are never valid: RFC 7252 §5.4.3-5 treat a bad length or a repeat of a non-repeatable
    option exactly like an unrecognised option, so one test serves both.
    """
    spec = REGISTRY.get(number)
    if spec is None:
        return False
    if not (first or spec & _R) or not (spec >> 3) & 1 <= len(value) <= spec >> 4:
        return False
    if spec & 3 == STRING:
        try:
            str(value, "utf-8")
        except UnicodeError:
            return False
    return True
