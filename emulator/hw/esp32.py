# Stand-in for MicroPython's `esp32`: only NVS, kept in emusim.board.nvs (the host keeps
# that on disk beside the flash directory, so it survives resets and power cuts).
import emusim


class NVS:
    def __init__(self, namespace):
        self._ns = emusim.board.nvs.setdefault(namespace, {})

    def _get(self, key):
        try:
            return self._ns[key]
        except KeyError:
            raise OSError(-4354) from None  # ESP_ERR_NVS_NOT_FOUND

    def set_i32(self, key, value):
        self._ns[key] = int(value)

    def get_i32(self, key):
        return self._get(key)

    def set_blob(self, key, value):
        self._ns[key] = bytes(value)

    def get_blob(self, key, buffer):
        v = self._get(key)
        for i in range(len(v)):
            buffer[i] = v[i]
        return len(v)

    def erase_key(self, key):
        self._get(key)
        del self._ns[key]

    def commit(self):
        emusim.board.nvs_commit()
