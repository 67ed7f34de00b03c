# Stand-in for MicroPython's `network` (ESP32): a station interface whose association takes
# board.wlan["assoc_ms"], and which loses it while the access point is in an outage
# (board.wlan_outages) or the simulation drops it. Status values are the ESP32 port's.
import emusim

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203


class WLAN:
    def __init__(self, interface_id=STA_IF):
        self._active = False
        self._ssid = None
        self._key = None
        self._since = None  # now_ms() when association started, None when not trying
        self._status = STAT_IDLE

    def active(self, is_active=None):
        if is_active is None:
            return self._active
        self._active = bool(is_active)
        if not self._active:
            self.disconnect()
        return None

    def connect(self, ssid=None, key=None, *, bssid=None):
        if not self._active:
            raise OSError("Wifi Not Started")
        self._ssid = ssid
        self._key = key
        self._since = emusim.board.now_ms()
        self._status = STAT_CONNECTING

    def disconnect(self):
        self._since = None
        self._status = STAT_IDLE

    def _update(self):
        # Association is judged lazily: whenever the firmware looks, from the board's state.
        if self._since is None:
            return
        b = emusim.board
        cfg = b.wlan
        if self._ssid != cfg["ssid"] or not b.ap_up():
            # The ESP32 keeps retrying in the background after a loss; so do we.
            self._status = STAT_NO_AP_FOUND if self._status != STAT_GOT_IP else STAT_BEACON_TIMEOUT
            self._since = b.now_ms()
            return
        if (self._key or "") != cfg["key"]:
            self._status = STAT_WRONG_PASSWORD
            return
        if self._status != STAT_GOT_IP and b.now_ms() - self._since >= cfg["assoc_ms"]:
            self._status = STAT_GOT_IP

    def isconnected(self):
        self._update()
        return self._status == STAT_GOT_IP

    def status(self, param=None):
        self._update()
        if param is None:
            return self._status
        if param == "rssi":
            if self._status != STAT_GOT_IP:
                raise OSError("STA is not connected")
            return emusim.board.wlan["rssi"]
        raise ValueError("unknown status param")

    def ifconfig(self, cfg=None):
        if self.isconnected():
            ip = "192.168.1." + str(10 + emusim.board.uid[-1] % 200)
            return (ip, "255.255.255.0", "192.168.1.1", "192.168.1.1")
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")

    def config(self, param=None, **kw):
        if param == "mac":
            return bytes(emusim.board.uid)
        if param == "ssid":
            return self._ssid
        return None
