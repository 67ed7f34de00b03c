"""What a notification says, in the recipient's language (Italian unless English is
asked for): a subject line and a plain-text body built on the rules' explanation."""

from fleet.rules.explain import language

_TITLES = {
    "it": {
        "panic": "Allarme: pulsante di emergenza",
        "fall": "Allarme: possibile caduta",
        "smoke": "Allarme fumo",
        "gas": "Allarme gas",
        "water": "Allarme allagamento",
        "inactivity": "Nessuna attività",
        "not_up": "Non si è alzata",
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
_BODY = {
    "it": (
        "{text}\n\nResidente: {resident}\nAvviso n. {id}, gravità: {severity}.\n\n"
        "Per favore confermi la presa in carico: {link}\n"
        "Se nessuno conferma, avviseremo la persona successiva della rete di assistenza."
    ),
    "en": (
        "{text}\n\nResident: {resident}\nAlert no. {id}, severity: {severity}.\n\n"
        "Please acknowledge that you are taking care of it: {link}\n"
        "If nobody acknowledges, the next person in the care circle will be notified."
    ),
}
_SEVERITY = {
    "it": {"critical": "critica", "urgent": "urgente", "warning": "avviso", "technical": "tecnica"},
    "en": {},
}


def compose(alert, resident, lang, public_url):
    """{"subject", "body", "language", "alert", "rule", "severity", "resident_id", "link"}
    for one recipient: the payload stored in the outbox row, sent as is."""
    from fleet.alerts.lifecycle import condition

    lang = language(lang)
    title = _TITLES[lang].get(alert.rule, alert.rule)
    text = condition(alert).text(lang)
    link = f"{public_url.rstrip('/')}/alerts/{alert.id}"
    body = _BODY[lang].format(
        text=text,
        resident=resident.name,
        id=alert.id,
        severity=_SEVERITY[lang].get(alert.severity, alert.severity),
        link=link,
    )
    return {
        "subject": f"[Portineria] {title}: {resident.name}",
        "body": body,
        "text": text,
        "language": lang,
        "alert": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "resident_id": resident.id,
        "link": link,
    }
