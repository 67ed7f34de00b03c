# A firmware-like script on the MicroPython unix port with the emulator's stand-ins
# (emulator/hw on the path): inputs, outputs, watchdog, Wi-Fi, BLE and I2C through hal.
import asyncio
import time

import emusim
import machine
from hub import hal

board = emusim.board


class Thermo:
    def __init__(self):
        self.last = b""

    def writeto(self, buf):
        self.last = bytes(buf)

    def readfrom_into(self, buf):
        for i in range(len(buf)):
            buf[i] = i


async def main():
    assert hal.reset_cause() == "power-on"
    assert hal.unique_id() == "240ac4000001"
    free, total = hal.flash_free()
    assert 0 < free <= total

    inputs = hal.Inputs([(4, machine.Pin.PULL_UP), (12, None)], debounce_ms=20)
    assert (inputs.value(0), inputs.value(1)) == (1, 0)
    waiter = asyncio.create_task(inputs.wait())
    await asyncio.sleep_ms(5)
    board.drive(4, 0, bounces=4)
    t = time.ticks_ms()
    await waiter
    assert time.ticks_diff(time.ticks_ms(), t) >= 20
    assert inputs.get()[:2] == (0, 0)

    buzzer = hal.Output(25)
    buzzer.on()
    assert board.line(25).out == 1 and buzzer.is_on()

    wifi = hal.Wifi()
    board.wlan["assoc_ms"] = 30
    wifi.connect("portineria", "")
    assert not wifi.isconnected() and wifi.rssi() is None
    await asyncio.sleep_ms(40)
    assert wifi.isconnected() and wifi.rssi() == -60

    sc = hal.Scanner(size=4, uuid16=0xFCD2)
    sc.start()
    adv = b"\x02\x01\x06\x07\x16\xd2\xfc\x40\x02\xc4\x09"
    board.advertise(b"\x01\x02\x03\x04\x05\x06", adv, -70)
    assert sc.get() == (b"\x01\x02\x03\x04\x05\x06", -70, adv)

    board.attach_i2c(0x44, Thermo())
    bus = hal.i2c(22, 21)
    bus.writeto(0x44, b"\x24\x00")
    assert bus.readfrom(0x44, 6) == bytes(range(6))
    try:
        bus.writeto(0x45, b"\x00")
        raise AssertionError("absent device answered")
    except OSError as e:
        assert e.args[0] == 19

    wdt = hal.watchdog(50)
    wdt.feed()
    await asyncio.sleep_ms(70)
    try:
        wdt.feed()  # too late: the board resets
    except SystemExit as e:
        assert e.args[0] == emusim.RESET_EXIT_BASE + machine.WDT_RESET
        print("OK", hal.mem_free() > 10000)


asyncio.run(main())
