"""Learning made visible: the routine the engine has learned for a resident and which
rules are watching, for the resident's page and the morning summary."""

from fleet.rules.explain import duration, language


def _hhmm(minute):
    if minute is None:
        return None
    h, m = divmod(int(round(minute)) % 1440, 60)
    return f"{h:02d}:{m:02d}"


_PAUSED = ("inactivity", "not_up", "bathroom")  # rules that holiday mode pauses
_T = {
    "learning": {"it": "in apprendimento: {n} giorni su {k}", "en": "learning: {n} of {k} days"},
    "learned": {"it": "abitudini apprese da {n} giorni", "en": "routine learned from {n} days"},
    "alarms": {
        "it": "sempre attivo: pulsante, caduta, fumo, gas, acqua",
        "en": "always on: panic button, fall, smoke, gas, water",
    },
    "inactivity_learned": {
        "it": "limiti appresi per ora del giorno (massimo assoluto {hard})",
        "en": "learned limits per hour of day (absolute maximum {hard})",
    },
    "inactivity_default": {
        "it": "limiti provvisori: {day} di giorno, {hard} di notte, finché impara",
        "en": "provisional limits while learning: {day} by day, {hard} at night",
    },
    "not_up_on": {
        "it": "di solito in piedi entro le {wake}: avviso alle {alert}",
        "en": "usually up by {wake}: alert at {alert}",
    },
    "not_up_off": {
        "it": "in attesa di imparare l'ora del risveglio",
        "en": "waiting to learn the usual wake time",
    },
    "night_door": {"it": "porta d'ingresso tra le {a} e le {b}", "en": "front door {a}–{b}"},
    "bathroom": {
        "it": "oltre {day} di giorno, {night} di notte",
        "en": "over {day} by day, {night} at night",
    },
    "climate": {
        "it": "caldo sopra {heat} °C per {hold}, oltre {hot} °C subito; freddo sotto {cold} °C",
        "en": "heat above {heat} °C for {hold}, over {hot} °C at once; cold below {cold} °C",
    },
    "climate_off": {
        "it": "nessun sensore di temperatura ha ancora riferito",
        "en": "no temperature sensor has reported yet",
    },
    "technical": {
        "it": (
            "se un sensore non risponde o ha la batteria scarica avvisiamo i tecnici; se "
            "l'apparecchio del condominio resta scollegato per più di {after}, avvisiamo "
            "anche la famiglia"
        ),
        "en": (
            "if a sensor stops answering or its battery runs low, the technicians are told; "
            "if the building's device stays disconnected for more than {after}, the family "
            "is told too"
        ),
    },
    "paused_away": {"it": "in pausa: modalità vacanza", "en": "paused: holiday mode"},
}


def routine(engine, lang=None):
    """The learned routine and the rules' status, as plain data with sentences in `lang`."""
    lang = language(lang)
    s, b = engine.settings, engine.baseline
    now = engine.now

    def t(key, **kw):
        return _T[key][lang].format(**kw)

    def d(seconds):
        return duration(seconds, lang)

    learning = b.days < s.min_days
    status = t("learning", n=b.days, k=s.min_days) if learning else t("learned", n=b.days)
    away = now is not None and engine._away(now)
    wake = engine.wake_time()
    quiet = []
    for h in range(24):
        seconds, how = engine.limit_at(h * 60)
        quiet.append({"hour": h, "limit_s": seconds, "how": how})
    inactivity = (
        t("inactivity_default", day=d(s.learning_day_s), hard=d(s.hard_limit_s))
        if learning
        else t("inactivity_learned", hard=d(s.hard_limit_s))
    )
    not_up = (
        t("not_up_on", wake=_hhmm(wake), alert=_hhmm(wake + s.wake_margin_s / 60))
        if wake is not None
        else t("not_up_off")
    )
    climate = t(
        "climate",
        heat=f"{s.heat_c:g}",
        hold=d(s.heat_for_s),
        hot=f"{s.heat_urgent_c:g}",
        cold=f"{s.cold_c:g}",
    )
    rules = [
        ("alarms", True, t("alarms")),
        ("inactivity", not away, inactivity),
        ("not_up", wake is not None and not away, not_up),
        ("night_door", True, t("night_door", a=_hhmm(s.night[0]), b=_hhmm(s.night[1]))),
        (
            "bathroom",
            not away,
            t("bathroom", day=d(s.bathroom_day_s), night=d(s.bathroom_night_s)),
        ),
        ("climate", bool(engine.climate), climate if engine.climate else t("climate_off")),
        ("technical", True, t("technical", after=d(s.family_after_s))),
    ]
    return {
        "status": status,
        "learning": learning,
        "days": b.days,
        "min_days": s.min_days,
        "quiet_limits": quiet,
        "wake": _hhmm(wake),
        "bedtime": _hhmm(b.bedtime),
        "bathroom_visits_per_day": b.bath_per_day,
        "time_out_per_day_s": b.out_per_day_s,
        "rules": [
            {
                "rule": rule,
                "active": active,
                "note": t("paused_away") if away and rule in _PAUSED else note,
            }
            for rule, active, note in rules
        ],
    }
