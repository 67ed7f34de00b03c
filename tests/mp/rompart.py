# A ROMFS partition lent to boot.py as the firmware's vfs.rom_ioctl would give it, over a
# bytearray (this port cannot map flash): used by boot_romfs.py and hub_alone.py.


def lend(part):
    """vfs.rom_ioctl over `part`: 2 get, 3 prepare (erase), 4 write, 5 end."""

    def rom_ioctl(op, *args):
        if op == 2:
            return memoryview(part)
        if op == 3:
            for i in range(args[1]):
                part[i] = 0xFF
            return 4096
        if op == 4:
            part[args[1] : args[1] + len(args[2])] = args[2]
        return 0

    return rom_ioctl
