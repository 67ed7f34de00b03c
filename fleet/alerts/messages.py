"""What a notification says, in the recipient's language (Italian unless English is
asked for): a subject line and a plain-text body built on the rules' explanation, with
the next thing to do and what the link is for — written for a relative reading it on a
phone, so no ids, severities or UTC.

    compose(alert, resident, lang, public_url) -> the outbox payload
    title(rule, lang)                          -> "Allarme: pulsante di emergenza"
    advice(alert, first_name, lang)            -> what to do now, in a sentence or two
"""

from datetime import UTC
from zoneinfo import ZoneInfo

from fleet.rules.explain import language

_TITLES = {
    "it": {
        "panic": "Allarme: pulsante di emergenza",
        "fall": "Allarme: possibile caduta",
        "smoke": "Allarme fumo",
        "gas": "Allarme gas",
        "water": "Allarme allagamento",
        "inactivity": "Nessuna attività",
        "not_up": "Ancora nessun movimento stamattina",
        "bathroom": "In bagno da troppo tempo",
        "night_door": "Porta aperta di notte",
        "heat": "Caldo in casa",
        "heat_extreme": "Caldo estremo in casa",
        "cold": "Freddo in casa",
        "hub_offline": "Hub non in linea",
        "monitoring_interrupted": "Monitoraggio interrotto",
        "sensor_silent": "Sensore silenzioso",
        "low_battery": "Batteria scarica",
    },
    "en": {
        "panic": "Alarm: panic button",
        "fall": "Alarm: possible fall",
        "smoke": "Smoke alarm",
        "gas": "Gas alarm",
        "water": "Water leak alarm",
        "inactivity": "No activity",
        "not_up": "Not up yet",
        "bathroom": "In the bathroom too long",
        "night_door": "Door opened at night",
        "heat": "Heat at home",
        "heat_extreme": "Extreme heat at home",
        "cold": "Cold at home",
        "hub_offline": "Hub offline",
        "monitoring_interrupted": "Monitoring interrupted",
        "sensor_silent": "Sensor silent",
        "low_battery": "Low battery",
    },
}
# What a relative can do at once, by rule; 112 is the European emergency number.
_CALL_HELP = {
    "it": (
        "Chiami subito {name}. Se non risponde, chieda a un vicino di suonare alla porta "
        "o chiami il 112."
    ),
    "en": (
        "Call {name} at once. If there is no answer, ask a neighbour to ring the door or call 112."
    ),
}
_FIRE = {
    "it": (
        "Chiami {name}: deve uscire di casa. Se non risponde, o se c'è fumo o odore di "
        "gas, chiami il 112."
    ),
    "en": (
        "Call {name}: they must leave the flat. If there is no answer, or there is "
        "smoke or a smell of gas, call 112."
    ),
}
_CHECK_ON = {
    "it": (
        "Chiami {name} per sapere come sta. Se non risponde, chieda a un vicino di passare da lei."
    ),
    "en": "Call {name} to ask how things are. If there is no answer, ask a neighbour to look in.",
}
_ADVICE = {
    "it": {
        "panic": _CALL_HELP["it"],
        "fall": _CALL_HELP["it"],
        "smoke": _FIRE["it"],
        "gas": _FIRE["it"],
        "water": (
            "Chiami {name}; se non risponde, avvisi un vicino o l'amministratore: va "
            "chiuso il rubinetto generale dell'acqua."
        ),
        "night_door": "Chiami {name} per sapere se va tutto bene e se la porta è chiusa.",
        "heat": "Chiami {name}: ricordi di bere spesso e di rinfrescare la casa.",
        "heat_extreme": _CALL_HELP["it"],
        "cold": "Chiami {name}: controllate insieme che il riscaldamento sia acceso.",
    },
    "en": {
        "panic": _CALL_HELP["en"],
        "fall": _CALL_HELP["en"],
        "smoke": _FIRE["en"],
        "gas": _FIRE["en"],
        "water": (
            "Call {name}; if there is no answer, tell a neighbour or the building manager: "
            "the main water tap must be shut."
        ),
        "night_door": "Call {name} to ask whether all is well and the door is shut.",
        "heat": "Call {name}: a reminder to drink often and to cool the flat down.",
        "heat_extreme": _CALL_HELP["en"],
        "cold": "Call {name}: check together that the heating is on.",
    },
}
# Alerts about the equipment go to volunteers and technicians.
_TECH_ADVICE = {
    "it": "Controlli l'apparecchio nell'appartamento o chieda a un tecnico.",
    "en": "Check the device in the flat, or ask a technician.",
}
_BODY = {
    "it": (
        "{text}\n\nCosa fare adesso: {advice}\n\n"
        "Se se ne occupa lei, apra questo link e prema «Ho visto, me ne occupo»: gli altri "
        "vedranno che se ne occupa lei e non riceveranno altri avvisi. Lì trova anche chi "
        "altro è stato avvisato.\n{link}\n\n{next}\n"
        "\n{resident} · allarme delle {time} del {date} (ora italiana) · n. {id}"
    ),
    "en": (
        "{text}\n\nWhat to do now: {advice}\n\n"
        "If you take it on, open this link and press “Seen, I'm on it”: the others will see "
        "that you are taking care of it and will not be alerted again. It also shows who else "
        "was told.\n{link}\n\n{next}\n"
        "\n{resident} · alert of {time} on {date} (Italian time) · no. {id}"
    ),
}

# Who hears next if nobody takes it on (fleet.alerts.lifecycle's ladder).
_NEXT = {
    "it": {
        "care": "Se nessuno se ne occupa, avviseremo la prossima persona tra quelle che "
        "seguono {first}.",
        "tech": "Se nessuno se ne occupa, avviseremo un tecnico.",
    },
    "en": {
        "care": "If nobody takes it on, we will alert the next of the people who look after "
        "{first}.",
        "tech": "If nobody takes it on, we will alert a technician.",
    },
}


def title(rule, lang):
    return _TITLES[language(lang)].get(rule, rule)


def advice(alert, first_name, lang):
    lang = language(lang)
    if alert.audience != "care":
        return _TECH_ADVICE[lang]
    return _ADVICE[lang].get(alert.rule, _CHECK_ON[lang]).format(name=first_name)


def _local(alert):
    at = alert.opened_at if alert.opened_at.tzinfo else alert.opened_at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo((alert.facts or {}).get("tz", "Europe/Rome")))


def compose(alert, resident, lang, public_url):
    """{"subject", "body", "language", "alert", "rule", "severity", "resident_id", "link"}
    for one recipient: the payload stored in the outbox row, sent as is."""
    from fleet.alerts.lifecycle import condition

    lang = language(lang)
    text = condition(alert).text(lang)
    link = f"{public_url.rstrip('/')}/alerts/{alert.id}"
    first = (resident.name.split() or [resident.name])[0]
    at = _local(alert)
    body = _BODY[lang].format(
        text=text,
        advice=advice(alert, first, lang),
        link=link,
        next=_NEXT[lang]["care" if alert.audience == "care" else "tech"].format(first=first),
        resident=resident.name,
        time=at.strftime("%H:%M"),
        date=at.strftime("%d/%m"),
        id=alert.id,
    )
    return {
        # The name first: a phone shows only the start of a subject.
        "subject": f"[Portineria] {resident.name} · {title(alert.rule, lang)}",
        "body": body,
        "text": text,
        "language": lang,
        "alert": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "resident_id": resident.id,
        "link": link,
    }
