"""Debounced inputs and BLE scanning through hal, on the emulator's stand-ins in-process."""

import asyncio

PANIC = 4  # wired to ground, pulled up: pressed reads 0


def _hal():
    from hub import hal

    return hal


def _wait(board, ms):
    board.clock.advance(ms / 1000)


def test_bouncing_press_is_one_event_with_its_start_time(board):
    hal = _hal()
    inputs = hal.Inputs([(PANIC, 2)], debounce_ms=30)
    assert inputs.value(0) == 1
    board.drive(PANIC, 0, bounces=5)
    pressed_at = hal.ticks_ms()
    assert inputs.poll() > 0 and inputs.get() is None  # still settling
    _wait(board, 31)
    assert inputs.poll() == -1
    index, level, ticks = inputs.get()
    assert (index, level) == (0, 0)
    assert abs(hal.ticks_diff(ticks, pressed_at)) <= 2
    assert inputs.get() is None
    assert inputs.value(0) == 0


def test_press_is_kept_when_the_loop_never_polled_during_it(board):
    # The release edge's IRQ judges the held press: a stalled loop loses nothing.
    hal = _hal()
    inputs = hal.Inputs([(PANIC, 2)], debounce_ms=30)
    board.drive(PANIC, 0, bounces=3)
    _wait(board, 50)
    board.drive(PANIC, 1, bounces=3)
    _wait(board, 40)
    inputs.poll()
    assert [inputs.get(), inputs.get()][0][:2] == (0, 0)
    assert inputs.value(0) == 1


def test_glitch_shorter_than_debounce_is_ignored(board):
    hal = _hal()
    inputs = hal.Inputs([(PANIC, 2)], debounce_ms=30)
    board.drive(PANIC, 0)
    _wait(board, 10)
    board.drive(PANIC, 1)
    _wait(board, 40)
    assert inputs.poll() == -1
    assert inputs.get() is None


def test_full_ring_counts_overflows_instead_of_overwriting(board):
    hal = _hal()
    inputs = hal.Inputs([(PANIC, 2)], debounce_ms=5, size=4)
    for k in range(6):
        board.drive(PANIC, k & 1)
        _wait(board, 10)
    inputs.poll()
    levels = [inputs.get()[1] for _ in range(3)]
    assert levels == [0, 1, 0]  # the oldest three kept, in order
    assert inputs.get() is None and inputs.overflows == 3


def test_irq_trigger_selects_edges(board):
    import machine

    seen = []
    pin = machine.Pin(12, machine.Pin.IN)
    pin.irq(lambda p: seen.append(p.value()), machine.Pin.IRQ_RISING)
    board.drive(12, 1)
    board.drive(12, 0)
    board.drive(12, 1)
    assert seen == [1, 1]


async def test_wait_returns_when_a_press_settles(board):
    hal = _hal()
    inputs = hal.Inputs([(PANIC, 2)], debounce_ms=20)
    waiter = asyncio.ensure_future(inputs.wait())
    await asyncio.sleep(0)
    board.drive(PANIC, 0)
    await asyncio.wait_for(waiter, 1)
    assert inputs.get()[:2] == (0, 0)


BTHOME = bytes.fromhex("020106") + bytes.fromhex("0716d2fc4002c409")


def test_scanner_keeps_only_bthome_adverts_and_copies_them(board):
    hal = _hal()
    sc = hal.Scanner(size=4, uuid16=0xFCD2)
    sc.start()
    board.advertise(b"\xa4\xc1\x38\x00\x00\x01", BTHOME, rssi=-61)
    board.advertise(b"\xa4\xc1\x38\x00\x00\x02", bytes.fromhex("020106"), rssi=-50)
    assert sc.get() == (b"\xa4\xc1\x38\x00\x00\x01", -61, BTHOME)
    assert sc.get() is None
    sc.stop()
    board.advertise(b"\xa4\xc1\x38\x00\x00\x01", BTHOME)
    assert sc.get() is None and not sc.scanning
