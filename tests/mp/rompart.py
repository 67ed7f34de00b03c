# A ROMFS partition lent to boot.py as the firmware's vfs.rom_ioctl would give it, over a
# bytearray (this port cannot map flash): used by boot_romfs.py and hub_alone.py. Writes
# behave as on NOR flash: they only turn 1 bits to 0; an erase sets whole bytes to 0xFF.


class PowerCut(Exception):
    pass


def lend(part, cut=-1):
    """vfs.rom_ioctl over `part`: 2 get, 3 prepare (erase), 4 write, 5 end. cut >= 0: the
    power fails in the cut-th erase or write (counted from 0), which raises PowerCut: a
    write then did its first half; an erase left the partition's first bytes and all after
    its first block, the worst case: the image's header and the key outlive the damage."""
    left = [cut]

    def torn():
        left[0] -= 1
        return left[0] == -1

    def rom_ioctl(op, *args):
        if op == 2:
            return memoryview(part)
        if op == 3:
            size = args[1]
            cut_now = torn()
            for i in range(64, 4096) if cut_now else range(size):
                part[i] = 0xFF
            if cut_now:
                raise PowerCut
            return 4096
        if op == 4:
            at, data = args[1], args[2]
            n = len(data) // 2 if torn() else len(data)
            for i in range(n):
                part[at + i] &= data[i]
            if n < len(data):
                raise PowerCut
        return 0

    return rom_ioctl
