"""Sentences a caregiver understands, in Italian (default) and English: why a condition
was raised and why it cleared. Times are the flat's local times."""

from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("it", "en")

_ROOMS = {
    "it": {
        "entrance": "ingresso",
        "kitchen": "cucina",
        "bathroom": "bagno",
        "bedroom": "camera da letto",
        "living": "soggiorno",
    },
    "en": {"living": "living room"},
}
_KINDS = {
    "it": {
        "motion": "di movimento",
        "door": "della porta",
        "bed": "del letto",
        "temperature": "di temperatura",
        "panic": "del pulsante di emergenza",
        "button": "del pulsante",
        "smoke": "di fumo",
        "gas": "del gas",
        "water": "di allagamento",
    },
    "en": {"panic": "panic button", "water": "water leak"},
}
_NOBODY = {"it": "la persona assistita", "en": "the resident"}

_TEXTS = {
    "panic": {
        "it": "{Name} ha premuto il pulsante di emergenza {at_since}.",
        "en": "{Name} pressed the panic button {at_since}.",
    },
    "fall": {
        "it": "Rilevata una possibile caduta di {name} {at_since}.",
        "en": "A possible fall of {name} was detected {at_since}.",
    },
    "smoke": {
        "it": "Allarme fumo{in_room} {at_since}.",
        "en": "Smoke alarm{in_room} {at_since}.",
    },
    "gas": {"it": "Allarme gas{in_room} {at_since}.", "en": "Gas alarm{in_room} {at_since}."},
    "water": {
        "it": "Perdita d'acqua{in_room} {at_since}.",
        "en": "Water leak{in_room} {at_since}.",
    },
    "inactivity/learned": {
        "it": "Nessuna attività in casa da {quiet} ({since}); a quest'ora per {name} di solito "
        "non passano più di {limit} senza attività.",
        "en": "No activity in the flat for {quiet} ({since}); at this time of day {name} is "
        "usually never quiet for more than {limit}.",
    },
    "inactivity/default": {
        "it": "Nessuna attività in casa da {quiet} ({since}); il limite è {limit} finché il "
        "sistema impara le abitudini di {name}.",
        "en": "No activity in the flat for {quiet} ({since}); the limit is {limit} while "
        "{name}'s routine is being learned.",
    },
    "inactivity/limit": {
        "it": "Nessuna attività in casa da {quiet} ({since}): oltre il limite massimo di {limit}.",
        "en": "No activity in the flat for {quiet} ({since}): beyond the maximum of {limit}.",
    },
    "inactivity/out": {
        "it": "{Name} è uscita di casa {at_since} e da {quiet} non c'è stato rientro.",
        "en": "{Name} went out {at_since} and has not come back for {quiet}.",
    },
    "not_up": {
        "it": "{Name} di solito si alza entro le {wake}; sono le {now} e non c'è stata attività",
        "en": "{Name} is usually up by {wake}; it is {now} and there has been no activity",
    },
    "bathroom": {
        "it": "{Name} è in bagno da {quiet} ({since}) senza attività in altre stanze; il limite "
        "{part} è {limit}.",
        "en": "{Name} has been in the bathroom for {quiet} ({since}) with no activity "
        "elsewhere; the {part} limit is {limit}.",
    },
    "night_door": {
        "it": "La porta d'ingresso è stata aperta di notte, {at_since}.",
        "en": "The front door was opened during the night, {at_since}.",
    },
    "heat": {
        "it": "Caldo in casa{in_room}: sopra {limit_c} °C {since} (ora {c} °C).",
        "en": "Heat at home{in_room}: above {limit_c} °C {since} (now {c} °C).",
    },
    "heat_extreme": {
        "it": "Caldo estremo in casa{in_room}: sopra {limit_c} °C {since} (ora {c} °C).",
        "en": "Extreme heat at home{in_room}: above {limit_c} °C {since} (now {c} °C).",
    },
    "cold": {
        "it": "Freddo in casa{in_room}: sotto {limit_c} °C {since} (ora {c} °C).",
        "en": "Cold at home{in_room}: below {limit_c} °C {since} (now {c} °C).",
    },
    "hub_offline": {
        "it": "L'hub non si collega {since}.",
        "en": "The hub has not been in touch {since}.",
    },
    "monitoring_interrupted": {
        "it": "Il monitoraggio di {name} è interrotto {since}: l'apparecchio del condominio "
        "non risponde.",
        "en": "Monitoring of {name} has been interrupted {since}: the hub does not respond.",
    },
    "sensor_silent": {
        "it": "Il sensore {kind}{in_room} non dà segni di vita {since}.",
        "en": "The {kind} sensor{in_room} has been silent {since}.",
    },
    "low_battery": {
        "it": "Batteria scarica ({battery} %) nel sensore {kind}{in_room}.",
        "en": "Low battery ({battery} %) in the {kind} sensor{in_room}.",
    },
}
_REASONS = {
    "activity": {"it": "Attività ripresa", "en": "Activity resumed"},
    "up": {"it": "Attività del mattino rilevata", "en": "Morning activity seen"},
    "left_bathroom": {"it": "Attività fuori dal bagno", "en": "Activity outside the bathroom"},
    "back_inside": {"it": "Di nuovo attività in casa", "en": "Activity inside again"},
    "temperature_normal": {"it": "Temperatura tornata normale", "en": "Temperature back to normal"},
    "back_online": {"it": "L'hub è di nuovo in linea", "en": "The hub is back online"},
    "sensor_back": {"it": "Il sensore ha ripreso a comunicare", "en": "The sensor reports again"},
    "battery_ok": {"it": "Batteria sostituita", "en": "Battery replaced"},
    "away": {"it": "Modalità vacanza attiva", "en": "Holiday mode is on"},
    "resolved": {"it": "Chiuso da una persona", "en": "Closed by a person"},
}


def language(lang):
    return lang if lang in LANGUAGES else "it"


def duration(seconds, lang="it"):
    """'2 ore e 5 minuti' / '2 h 5 min', rounded to the minute."""
    minutes = int(round(seconds / 60))
    h, m = divmod(minutes, 60)
    if language(lang) == "en":
        return " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m or not h else "") if p)
    hours = "1 ora" if h == 1 else f"{h} ore"
    mins = "1 minuto" if m == 1 else f"{m} minuti"
    return f"{hours} e {mins}" if h and m else hours if h else mins


def clock_time(t, tz):
    return datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%H:%M")


def _when(t, ref, tz, lang, since):
    """'alle 22:10' / 'dalle 22:10', with the date when it was another day."""
    zone = ZoneInfo(tz)
    a, b = datetime.fromtimestamp(t, zone), datetime.fromtimestamp(ref, zone)
    hhmm, day = a.strftime("%H:%M"), a.strftime("%d/%m")
    same = a.date() == b.date()
    if lang == "en":
        return ("since " if since else "at ") + (hhmm if same else f"{hhmm} on {day}")
    if same:
        return ("dalle " if since else "alle ") + hhmm
    return ("dal " if since else "il ") + f"{day} alle {hhmm}"


def _room(room, lang):
    return _ROOMS[lang].get(room, room) if room else ""


def _template(c):
    if c.rule != "inactivity":
        return c.rule
    how = c.facts.get("how")
    return "inactivity/" + {
        "learned": "learned",
        "learned_bed": "learned",
        "default": "default",
        "out": "out",
    }.get(how, "limit")


def describe(c, lang=None):
    lang = language(lang)
    f = c.facts
    tz = f.get("tz", "Europe/Rome")
    name = f.get("name") or _NOBODY[lang]
    room = c.subject if isinstance(c.subject, str) else f.get("room")
    if c.rule == "sensor_silent" or c.rule == "low_battery":
        room = f.get("room")
    prep = {"it": " in ", "en": " in the "}[lang]
    values = {
        "name": name,
        "Name": name[:1].upper() + name[1:],
        "at_since": _when(c.since, c.at, tz, lang, False),
        "since": _when(c.since, c.at, tz, lang, True),
        "now": clock_time(c.at, tz),
        "quiet": duration(c.at - c.since, lang),
        "limit": duration(f.get("limit_s", 0), lang),
        "in_room": prep + _room(room, lang) if room else "",
        "wake": "{:02d}:{:02d}".format(*divmod(int(round(f.get("wake", 0))) % 1440, 60)),
        "part": {"it": ("di giorno", "di notte"), "en": ("daytime", "night-time")}[lang][
            bool(f.get("night"))
        ],
        "limit_c": f"{f.get('limit_c', 0):g}",
        "c": f"{f.get('c', 0):.1f}" if lang == "en" else f"{f.get('c', 0):.1f}".replace(".", ","),
        "kind": _KINDS[lang].get(f.get("kind"), f.get("kind") or ""),
        "battery": str(round(f.get("battery") or 0)),
    }
    text = _TEXTS[_template(c)][lang].format(**values)
    repeats = f.get("repeats")
    if repeats:
        text += {"it": f" (ripetuto {repeats} volte)", "en": f" (repeated {repeats} times)"}[lang]
    return text


def describe_clear(cleared, lang=None):
    lang = language(lang)
    tz = cleared.condition.facts.get("tz", "Europe/Rome")
    reason = _REASONS[cleared.reason][lang]
    return f"{reason} {_when(cleared.at, cleared.at, tz, lang, False)}."
