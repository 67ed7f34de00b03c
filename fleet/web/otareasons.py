"""fleet.ota's refusals and pause reasons in the page's language.

fleet.ota explains itself in English (the API's and the tools' language); the pages
match each known sentence here and say it with an i18n key ("ota_r_…"), its variable
parts carried over. A sentence not in the table (a new one, or what a technician typed
as a pause reason) is shown as it is, so nothing is ever hidden.

    say(t, reason)   # t: the page's translator
"""

import re

# (pattern, key): full matches of fleet.ota's reasons (fleet/ota/*.py, otapages.py).
_KNOWN = [
    (r"a window time is HH:MM, not (?P<text>.+)", "ota_r_window_time"),
    (r"waves are whole percentages(, e\.g\. 1, 10, 50, 100)?", "ota_r_waves_whole"),
    (r"waves are cumulative percentages from 1 to 100, ending at 100", "ota_r_waves_range"),
    (r"waves must grow", "ota_r_waves_grow"),
    (r"release (?P<version>\S+) is for (?P<hw>\S+), not (?P<other>\S+)", "ota_r_hardware"),
    (r"success_share is in \(0, 1\] and failure_share in \[0, 1\)", "ota_r_shares"),
    (r"a window is \[start, end\]", "ota_r_window"),
    (r"a window's start and end differ", "ota_r_window_same"),
    (r"a (?P<state>\w+) campaign cannot (?P<action>start|pause|resume|cancel)", "ota_r_cannot"),
    (r"no hub matches this campaign", "ota_r_no_hub"),
    (r"no trusted release keys: set FLEET_RELEASE_KEYS", "ota_r_no_keys"),
    (r"manifest signed by an untrusted key", "ota_r_untrusted"),
    (r"manifest signature does not verify", "ota_r_bad_signature"),
    (r"not a signed manifest: .*", "ota_r_not_signed"),
    (r"manifest payload is not CBOR: .*", "ota_r_not_signed"),
    (r"manifest is not format 1", "ota_r_format"),
    (r"manifest sequence number missing or out of range", "ota_r_format"),
    (r"manifest \S+ missing or not short text", "ota_r_format"),
    (r"bundle is (?P<size>\d+) bytes, the manifest says (?P<said>\S+)", "ota_r_size"),
    (r"bundle SHA-256 differs from the manifest's", "ota_r_digest"),
    (r"(?P<what>manifest|bundle) larger than (?P<limit>\d+) bytes", "ota_r_too_big"),
    (r"a release with sequence number (?P<seq>\d+) is already stored", "ota_r_dup_seq"),
    (r"(?P<text>.+) is not a percentage", "ota_r_percent"),
    (r"choose the (?P<what>manifest|bundle) file", "ota_r_choose_file"),
    (r"choose a release", "ota_r_choose_release"),
    (r"paused by hand", "ota_r_by_hand"),
    (r"wave (?P<wave>\d+): (?P<failed>\d+) of (?P<hubs>\d+) hubs failed", "ota_r_wave_failed"),
]
_TABLE = [(re.compile(pattern), key) for pattern, key in _KNOWN]
# Parts that are words themselves, said through their own keys.
_WORDS = {"state": "ota_cstate_", "action": "ota_verb_", "what": "ota_file_"}


def say(t, reason):
    """`reason` in t's language if it is a known one, else as it is."""
    for pattern, key in _TABLE:
        m = pattern.fullmatch(reason or "")
        if m:
            parts = {k: t(_WORDS[k] + v) if k in _WORDS else v for k, v in m.groupdict().items()}
            return t(key, **parts)
    return reason
