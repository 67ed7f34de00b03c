# The hub-fleet wire protocol, shared by firmware/ (MicroPython) and fleet/ (CPython).
# Sans-IO: bytes in, values out; callers pass `now` in milliseconds and own sockets.
