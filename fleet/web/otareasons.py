"""fleet.ota's reasons in the page's language, by code.

fleet.ota names every refusal and every pause it explains with a code and its parameters
(fleet.ota.MESSAGES); the pages say each with the i18n key "ota_r_<code>", the parameters
filled in. A code without a key in the page's language (one added to fleet.ota after
these pages) is said in fleet.ota's English, and a pause reason a technician typed is
shown as typed, so nothing is ever hidden.

    refusal(t, e)        # an OTAError, t: the page's translator
    pause(t, campaign)   # why a paused campaign is paused
"""

from fleet.ota import campaigns, message

# Parameters that are words themselves, said through their own keys.
_WORDS = {"state": "ota_cstate_", "action": "ota_verb_", "what": "ota_file_"}


def say(t, code, params):
    """Reason `code` with `params` in t's language (fleet.ota's English if it has none)."""
    key = "ota_r_" + code
    if t(key) == key:
        return message(code, params)
    words = {k: t(_WORDS[k] + str(v)) if k in _WORDS else v for k, v in params.items()}
    return t(key, **words)


def refusal(t, e):
    return say(t, e.code, e.params)


def pause(t, c):
    code = campaigns.pause_code(c)
    return c.paused_reason if code is None else say(t, *code)
