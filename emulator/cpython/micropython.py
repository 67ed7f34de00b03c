"""CPython stand-in for MicroPython's `micropython` module (on sys.path only in emulated
hubs). schedule() runs the function on the hub's event loop, as the hub's scheduler runs it
between bytecodes of the main thread."""

import asyncio


def const(expr):
    return expr


def native(f):
    return f


viper = native


def alloc_emergency_exception_buf(size):
    pass


def mem_info(verbose=None):
    import gc

    print("heap free:", gc.mem_free())


def qstr_info(verbose=None):
    pass


def opt_level(level=None):
    return 0 if level is None else None


def heap_lock():
    return 0


def heap_unlock():
    return 0


def kbd_intr(chr):
    pass


def schedule(func, arg):
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        func(arg)
        return
    loop.call_soon(func, arg)
