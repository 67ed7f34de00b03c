# Block-wise transfers (RFC 7959), sans-IO: each object builds the next request and
# digests its response; the caller sends them through an Endpoint (and OSCORE).
#
# Block2Download can resume: persist (num, szx, etag) after each block, and build a new
# download from them after a reboot; a changed resource then raises ETagChanged.

from protocol import codes, options
from protocol.coap import Message
from protocol.errors import CoAPError

MAX_SZX = 6  # 1024 bytes; SZX 7 is reserved (BERT, over TCP only)


class BlockError(CoAPError):
    """A block-wise transfer that cannot go on; `response` is the peer's answer, if any."""

    def __init__(self, message, response=None):
        super().__init__(message)
        self.response = response


class ETagChanged(BlockError):
    """The resource changed during the transfer (or since the saved progress)."""


def block_size(szx):
    return 16 << szx


def szx_for(size):
    """The largest SZX whose block fits in `size` bytes (at least 16)."""
    szx = 0
    while szx < MAX_SZX and 32 << szx <= size:
        szx += 1
    return szx


def encode_block(num, more, szx):
    """The uint value of a Block1/Block2 option (RFC 7959 §2.2)."""
    if not (0 <= num < 1 << 20 and 0 <= szx <= MAX_SZX):
        raise BlockError("block number or size out of range")
    return num << 4 | (8 if more else 0) | szx


def decode_block(value):
    """(num, more, szx) from a Block option's uint value."""
    szx = value & 7
    if szx > MAX_SZX:
        raise BlockError("reserved block size (SZX 7)")
    return value >> 4, bool(value & 8), szx


def _copy(template):
    return Message(template.mtype, template.code, 0, b"", list(template.options), template.payload)


class Block2Download:
    """Fetch a large representation block by block, from block `num` of size 16<<szx."""

    def __init__(self, request, szx=MAX_SZX, num=0, etag=None):
        if not 0 <= szx <= MAX_SZX:
            raise BlockError("block size out of range")
        self.request = request
        self.szx = szx
        self.num = num
        self.offset = num * block_size(szx)
        self.etag = etag
        self.size = None  # total size, once the server tells (Size2)
        self.done = False
        self._first = True

    def next_request(self):
        msg = _copy(self.request)
        msg.set(options.BLOCK2, encode_block(self.num, False, self.szx))
        if self.num == 0:
            msg.set(options.SIZE2, 0)  # ask for the total size (RFC 7959 §4)
        return msg

    def feed(self, response):
        """Digest the response to next_request(); returns (offset, data) to store."""
        if not codes.is_success(response.code):
            raise BlockError("download refused: " + codes.dotted(response.code), response)
        etag = response.get(options.ETAG)
        if self.etag is None and self._first:
            self.etag = etag
        elif etag != self.etag:
            raise ETagChanged("resource changed during the download", response)
        self._first = False
        self.size = response.get_uint(options.SIZE2, self.size)
        payload = response.payload
        offset = self.offset
        value = response.get_uint(options.BLOCK2)
        if value is None:
            # The server sent the whole representation at once.
            self.done = True
            self.offset = len(payload)
            return offset, payload[offset:]
        num, more, szx = decode_block(value)
        size = block_size(szx)
        if szx > self.szx or num * size != offset:
            raise BlockError("server sent a block that was not asked for", response)
        if len(payload) > size or (more and len(payload) != size):
            raise BlockError("block payload does not match its size", response)
        # The server may answer with smaller blocks (RFC 7959 §2.4): follow it.
        self.szx = szx
        self.offset = offset + len(payload)
        self.num = self.offset // size
        self.done = not more
        return offset, payload


class Block1Upload:
    """Send a large request body block by block (RFC 7959 §2.5)."""

    def __init__(self, request, body, szx=MAX_SZX, request_tag=None):
        if not 0 <= szx <= MAX_SZX:
            raise BlockError("block size out of range")
        self.request = request
        self.body = body
        self.szx = szx
        self.request_tag = request_tag
        self.offset = 0
        self.done = False
        self.response = None  # the final response, once done
        self._sent = None

    def next_request(self):
        size = block_size(self.szx)
        num = self.offset // size
        chunk = self.body[self.offset : self.offset + size]
        more = self.offset + len(chunk) < len(self.body)
        msg = _copy(self.request)
        msg.set(options.BLOCK1, encode_block(num, more, self.szx))
        if num == 0:
            msg.set(options.SIZE1, len(self.body))
        if self.request_tag is not None:
            msg.set(options.REQUEST_TAG, self.request_tag)
        msg.payload = bytes(chunk)
        self._sent = (num, more, len(chunk))
        return msg

    def feed(self, response):
        """Digest the response to next_request(); returns True once the upload is done."""
        sent = self._sent
        if sent is None:
            raise BlockError("feed() before next_request()")
        num, more, n = sent
        value = response.get_uint(options.BLOCK1)
        if response.code == codes.REQUEST_ENTITY_TOO_LARGE and value is not None:
            szx = decode_block(value)[2]
            if szx < self.szx:
                # The server named the block size it can take (RFC 7959 §2.9.3): start over.
                self.szx = szx
                self.offset = 0
                return False
        if not codes.is_success(response.code):
            raise BlockError("upload refused: " + codes.dotted(response.code), response)
        if not more:
            if response.code == codes.CONTINUE:
                raise BlockError("2.31 Continue after the last block", response)
            self.done = True
            self.response = response
            return True
        if value is None or decode_block(value)[0] != num:
            raise BlockError("server did not acknowledge the block sent", response)
        self.offset += n
        # A smaller SZX in the acknowledgement is the server's preferred size from now on.
        self.szx = min(self.szx, decode_block(value)[2])
        return False
