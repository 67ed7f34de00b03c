# A ROMFS partition lent to boot.py as the firmware's vfs.rom_ioctl would give it, over a
# bytearray (this port cannot map flash): used by boot_romfs.py and hub_alone.py. Writes
# behave as on NOR flash: they only turn 1 bits to 0; an erase sets whole bytes to 0xFF.


class PowerCut(Exception):
    pass


def lend(part, cut=-1):
    """vfs.rom_ioctl over `part`: 2 get, 3 prepare (erase), 4 write, 5 end. cut >= 0: the
    power fails in the middle of the cut-th erase or write (counted from 0), which then
    does only its first half, block 0 first as a flash erases, and raises PowerCut."""
    left = [cut]

    def done(n):
        # How many of n bytes this call gets through before the power fails.
        left[0] -= 1
        return n // 2 if left[0] == -1 else n

    def rom_ioctl(op, *args):
        if op == 2:
            return memoryview(part)
        if op == 3:
            n = done(args[1])
            for i in range(n):
                part[i] = 0xFF
            if n < args[1]:
                raise PowerCut
            return 4096
        if op == 4:
            at, data = args[1], args[2]
            n = done(len(data))
            for i in range(n):
                part[at + i] &= data[i]
            if n < len(data):
                raise PowerCut
        return 0

    return rom_ioctl
