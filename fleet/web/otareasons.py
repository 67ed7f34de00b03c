"""fleet.ota's reasons in the page's language, by code.

fleet.ota names every refusal, every pause it explains and every reason it writes on a
hub's deployment with a code and its parameters (fleet.ota.MESSAGES); the pages say each
with the i18n key "ota_r_<code>", the parameters filled in. A code without a key in the
page's language (one added to fleet.ota after these pages) is said in fleet.ota's
English; a pause reason a technician typed, and a deployment's detail stored before the
codes, are shown as they are, so nothing is ever hidden.

    refusal(t, e)           # an OTAError, t: the page's translator
    pause(t, campaign)      # why a paused campaign is paused
    detail(t, deployment)   # what a hub's deployment says (Deployment.detail)
    notice(t, pause, name)  # the caregiver's notice (deployments.monitoring_pause)
"""

from fleet.ota import UPDATING, campaigns, decoded, detail_text, message

# Parameters that are words themselves, said through their own keys (a word without one,
# e.g. a state added later, is shown as it is).
_WORDS = {
    "state": "ota_cstate_",
    "in_state": "ota_dstate_",
    "action": "ota_verb_",
    "what": "ota_file_",
}


def say(t, code, params):
    """Reason `code` with `params` in t's language (fleet.ota's English if it has none)."""
    key = "ota_r_" + code
    if t(key) == key:
        return message(code, params)
    words = {k: t.maybe(_WORDS[k] + str(v), v) if k in _WORDS else v for k, v in params.items()}
    return t(key, **words)


def refusal(t, e):
    return say(t, e.code, e.params)


def pause(t, c):
    code = campaigns.pause_code(c)
    return c.paused_reason if code is None else say(t, *code)


def detail(t, d):
    """Deployment `d`'s detail in t's language ("" when it has none)."""
    reason = decoded(d.detail)
    if reason is None:
        return d.detail
    try:
        return say(t, *reason)
    except (KeyError, IndexError, ValueError):
        return detail_text(d.detail)  # stored params that do not fit the words


def notice(t, p, name):
    """The caregiver's notice that `name`'s monitoring will pause (or is paused) for an
    update, from p = deployments.monitoring_pause(...); while the install is held back
    for her safety it says why (an open alert, emergencies not yet delivered)."""
    key = "ota_notice_now" if p["state"] == UPDATING else "ota_notice"
    said = t(key, name=name, seconds=p["expected_pause_s"])
    held = p.get("held")
    return said if held is None else t("ota_notice_held", notice=said, why=say(t, *held))
