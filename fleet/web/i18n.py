"""The pages' words in Italian (the default) and English: one dict per language, looked
up by key. A key missing from English falls back to Italian, then to the key itself, so
a forgotten entry shows up on the page instead of breaking it."""

LANGUAGES = ("it", "en")
DEFAULT = "it"

_IT = {
    "app": "Portineria",
    "login": "Accedi",
    "login_title": "Accesso",
    "email": "Email",
    "password": "Password",
    "logout": "Esci",
    "wrong_login": "Email o password sbagliate.",
    "too_many": "Troppi tentativi sbagliati: riprovi tra 15 minuti.",
    "bad_form": "Il modulo è scaduto: riprovi.",
    "not_found": "Pagina non trovata",
    "not_found_text": "Questa pagina non esiste o non è tra quelle che può vedere.",
    "forbidden": "Non permesso",
    "forbidden_text": "Il suo ruolo non permette di aprire questa pagina.",
    "home": "Inizio",
    "role_admin": "amministrazione",
    "role_technician": "tecnico",
    "role_volunteer": "volontario",
    "role_caregiver": "familiare",
    # Statuses.
    "st_well": "Tutto bene",
    "st_check": "Da controllare",
    "st_alert": "Allarme",
    "st_away": "In vacanza",
    "why_no_consent": "consenso non registrato: solo allarmi (pulsante, caduta, fumo, gas, acqua)",
    "why_critical": "{what} alle {time}",
    "why_quiet": "nessuna attività da {hours} ore",
    "why_no_data": "nessun dato dai sensori",
    "why_hub_offline": "hub non in linea",
    # Caregiver.
    "my_residents": "Le persone che segue",
    "no_residents": "Nessuna persona nella sua cerchia.",
    "open_day": "Vedi la giornata",
    "day_of": "La giornata di {name}",
    "activity": "Attività per stanza",
    "temperature": "Temperatura",
    "no_temperature": "Nessuna temperatura in questo giorno.",
    "prev_day": "Giorno prima",
    "next_day": "Giorno dopo",
    "routine": "Abitudini apprese",
    "learning": "In apprendimento: servono ancora alcuni giorni di dati.",
    "wake": "Di solito in piedi alle",
    "bedtime": "Di solito a letto alle",
    "rules_active": "Regole",
    "rule_on": "attiva",
    "rule_off": "non attiva",
    "last_activity": "Ultima attività",
    "never": "mai",
    "room_entrance": "Ingresso",
    "room_kitchen": "Cucina",
    "room_bathroom": "Bagno",
    "room_bedroom": "Camera",
    "room_living": "Soggiorno",
    "ev_panic": "pulsante di emergenza",
    "ev_fall": "caduta",
    "ev_smoke": "fumo",
    "ev_gas": "gas",
    "ev_water": "perdita d'acqua",
    "ev_button": "pulsante",
    "ev_motion": "movimento",
    "ev_door": "porta",
    "ev_bed": "letto",
    # Alerts.
    "alerts": "Allarmi aperti",
    "no_alerts": "Nessun allarme aperto.",
    "acknowledge": "Ho visto, me ne occupo",
    "resolve": "Risolto",
    "acknowledged_by": "preso in carico da {who} alle {time}",
    "false_alarm": "Falso allarme",
    "sev_critical": "critico",
    "sev_urgent": "urgente",
    "sev_warning": "avviso",
    "sev_technical": "tecnico",
    # Volunteer.
    "my_condos": "I suoi condomini",
    "hubs": "Hub",
    "sensors": "Sensori",
    "residents_by_flat": "Residenti per appartamento",
    "flat": "Interno",
    "resident": "Residente",
    "status": "Stato",
    "health": "Salute",
    "last_seen": "Ultimo contatto",
    "battery": "Batteria",
    "room": "Stanza",
    "kind": "Tipo",
    "walk_test": "Prova dei sensori",
    "walk_intro": "Faccia scattare ogni sensore, uno alla volta: diventa verde quando l'hub lo segnala.",
    "walk_done": "Tutti i sensori hanno risposto.",
    "walk_waiting": "in attesa…",
    "walk_ok": "ricevuto",
    "do_panic": "Prema ora il pulsante di emergenza",
    "do_button": "Prema ora il pulsante",
    "do_door": "Apra ora la porta",
    "do_motion": "Cammini ora davanti al sensore",
    "do_bed": "Si sieda ora sul letto",
    "do_other": "Faccia scattare ora il sensore",
    "claim": "Aggiungi un hub",
    "claim_intro": "Scriva il codice sull'etichetta dell'hub (o ne inquadri il QR).",
    "claim_code": "Codice",
    "condominium": "Condominio",
    "claim_button": "Aggiungi",
    "claimed": "Hub {hub} aggiunto: si accenderà da solo entro pochi minuti.",
    "claim_no_hub": "Nessun hub aspetta questo codice.",
    "claim_too_many": "Troppi codici sbagliati: riprovi tra un'ora.",
    "claim_forbidden": "Non segue questo condominio.",
    "no_hubs": "Nessun hub.",
    # Technician.
    "fleet": "Flotta",
    "filter": "Filtra",
    "all": "tutti",
    "state": "Stato",
    "firmware": "Firmware",
    "image_version": "Sistema di base",
    "hub_detail": "Hub {hub}",
    "uptime": "In funzione da",
    "rssi": "Segnale Wi-Fi",
    "free_heap": "Memoria libera",
    "queue": "Messaggi in coda",
    "restarts": "Riavvii",
    "reset_cause": "Causa ultimo riavvio",
    "last_error": "Ultimo errore",
    "history": "Storico",
    "no_history": "Nessun evento.",
    "state_provisioned": "preparato",
    "state_claimed": "assegnato",
    "state_online": "in linea",
    "state_offline": "non in linea",
    "state_revoked": "revocato",
    # Admin.
    "admin": "Amministrazione",
    "users": "Utenti",
    "name": "Nome",
    "role": "Ruolo",
    "active": "Attivo",
    "activate": "Riattiva",
    "deactivate": "Disattiva",
    "care_circles": "Cerchie di cura",
    "position": "Ordine",
    "relation": "Relazione",
    "add_member": "Aggiungi alla cerchia",
    "remove": "Togli",
    "saved": "Salvato.",
    "service": "Indicatori del servizio",
    "service_window": "ultimi {days} giorni",
    "fig_critical": "Allarmi critici",
    "fig_60": "Presi in carico entro 60 s",
    "fig_180": "Presi in carico entro 180 s",
    "fig_median": "Tempo mediano di presa in carico",
    "fig_false": "Falsi allarmi per persona al giorno",
    "settings": "Notifiche",
    "email_alerts": "Ricevere gli allarmi per e-mail",
    "email_to": "Indirizzo (vuoto: quello con cui accede)",
    "message_language": "Lingua dei messaggi",
    "save": "Salva",
    "bad_email": "Questo indirizzo email non è valido.",
    "yes": "sì",
    "no": "no",
}

_EN = {
    "login": "Log in",
    "login_title": "Log in",
    "logout": "Log out",
    "wrong_login": "Wrong email or password.",
    "too_many": "Too many failed attempts: try again in 15 minutes.",
    "bad_form": "The form expired: please try again.",
    "not_found": "Page not found",
    "not_found_text": "This page does not exist or is not one you may see.",
    "forbidden": "Not allowed",
    "forbidden_text": "Your role may not open this page.",
    "home": "Home",
    "role_admin": "administration",
    "role_technician": "technician",
    "role_volunteer": "volunteer",
    "role_caregiver": "family",
    "st_well": "All well",
    "st_check": "Check",
    "st_alert": "Alert",
    "st_away": "Away",
    "why_no_consent": "consent not on record: alarms only (panic button, fall, smoke, gas, water)",
    "why_critical": "{what} at {time}",
    "why_quiet": "no activity for {hours} hours",
    "why_no_data": "no data from the sensors",
    "why_hub_offline": "hub offline",
    "my_residents": "The people you look after",
    "no_residents": "Nobody in your care circle.",
    "open_day": "See the day",
    "day_of": "{name}'s day",
    "activity": "Activity by room",
    "temperature": "Temperature",
    "no_temperature": "No temperature on this day.",
    "prev_day": "Day before",
    "next_day": "Day after",
    "routine": "Learned routine",
    "learning": "Learning: a few more days of data are needed.",
    "wake": "Usually up at",
    "bedtime": "Usually in bed at",
    "rules_active": "Rules",
    "rule_on": "on",
    "rule_off": "off",
    "last_activity": "Last activity",
    "never": "never",
    "room_entrance": "Entrance",
    "room_kitchen": "Kitchen",
    "room_bathroom": "Bathroom",
    "room_bedroom": "Bedroom",
    "room_living": "Living room",
    "ev_panic": "panic button",
    "ev_fall": "fall",
    "ev_smoke": "smoke",
    "ev_gas": "gas",
    "ev_water": "water leak",
    "ev_button": "button",
    "ev_motion": "motion",
    "ev_door": "door",
    "ev_bed": "bed",
    "alerts": "Open alerts",
    "no_alerts": "No open alerts.",
    "acknowledge": "Seen, I'm on it",
    "resolve": "Resolved",
    "acknowledged_by": "taken on by {who} at {time}",
    "false_alarm": "False alarm",
    "sev_critical": "critical",
    "sev_urgent": "urgent",
    "sev_warning": "warning",
    "sev_technical": "technical",
    "my_condos": "Your condominiums",
    "hubs": "Hubs",
    "sensors": "Sensors",
    "residents_by_flat": "Residents by flat",
    "flat": "Flat",
    "resident": "Resident",
    "status": "Status",
    "health": "Health",
    "last_seen": "Last heard",
    "battery": "Battery",
    "room": "Room",
    "kind": "Kind",
    "walk_test": "Sensor walk-test",
    "walk_intro": "Set off each sensor, one at a time: it turns green when the hub reports it.",
    "walk_done": "Every sensor has answered.",
    "walk_waiting": "waiting…",
    "walk_ok": "received",
    "do_panic": "Press the panic button now",
    "do_button": "Press the button now",
    "do_door": "Open the door now",
    "do_motion": "Walk in front of the sensor now",
    "do_bed": "Sit on the bed now",
    "do_other": "Set off the sensor now",
    "claim": "Add a hub",
    "claim_intro": "Type the code on the hub's label (or scan its QR code).",
    "claim_code": "Code",
    "condominium": "Condominium",
    "claim_button": "Add",
    "claimed": "Hub {hub} added: it will come online by itself within minutes.",
    "claim_no_hub": "No hub waits for that code.",
    "claim_too_many": "Too many wrong codes: try again in an hour.",
    "claim_forbidden": "You do not look after that condominium.",
    "no_hubs": "No hubs.",
    "fleet": "Fleet",
    "filter": "Filter",
    "all": "all",
    "state": "State",
    "image_version": "Base system",
    "hub_detail": "Hub {hub}",
    "uptime": "Up for",
    "rssi": "Wi-Fi signal",
    "free_heap": "Free memory",
    "queue": "Queued messages",
    "restarts": "Restarts",
    "reset_cause": "Last reset cause",
    "last_error": "Last error",
    "history": "History",
    "no_history": "Nothing yet.",
    "state_provisioned": "provisioned",
    "state_claimed": "claimed",
    "state_online": "online",
    "state_offline": "offline",
    "state_revoked": "revoked",
    "admin": "Administration",
    "users": "Users",
    "name": "Name",
    "role": "Role",
    "active": "Active",
    "activate": "Reactivate",
    "deactivate": "Deactivate",
    "care_circles": "Care circles",
    "position": "Order",
    "relation": "Relation",
    "add_member": "Add to the circle",
    "remove": "Remove",
    "saved": "Saved.",
    "service": "Service figures",
    "service_window": "last {days} days",
    "fig_critical": "Critical alerts",
    "fig_60": "Acknowledged within 60 s",
    "fig_180": "Acknowledged within 180 s",
    "fig_median": "Median time to acknowledge",
    "fig_false": "False alarms per resident-day",
    "settings": "Notifications",
    "email_alerts": "Send me alerts by e-mail",
    "email_to": "Address (empty: the one you log in with)",
    "message_language": "Language of messages",
    "save": "Save",
    "bad_email": "This e-mail address is not valid.",
    "yes": "yes",
    "no": "no",
}

_CATALOGUE = {"it": _IT, "en": _EN}


def pick(*candidates):
    """The first candidate that is a language we have, else the default."""
    for lang in candidates:
        if lang in _CATALOGUE:
            return lang
    return DEFAULT


def translator(lang):
    """t(key, **kw) in `lang`; t.maybe(key, default) for raw values (a hub's words)."""
    words = _CATALOGUE[pick(lang)]

    def t(key, **kw):
        text = words.get(key) or _IT.get(key) or key
        return text.format(**kw) if kw else text

    def maybe(key, default):
        """The word for `key`, or `default` (a raw value we have no word for yet)."""
        return words.get(key) or _IT.get(key) or default

    t.lang = pick(lang)
    t.maybe = maybe
    return t


# Over-the-air updates: the technician's pages (otapages.py) and the caregiver's notice.
_IT.update(
    {
        "ota": "Aggiornamenti",
        "ota_releases": "Rilasci",
        "ota_no_releases": "Nessun rilascio caricato.",
        "ota_upload": "Carica un rilascio",
        "ota_upload_intro": (
            "Il manifesto firmato (manifest.cose) e il pacchetto (bundle.bin) come li scrive "
            "tools/release.py; il pacchetto al massimo {kb} kB."
        ),
        "ota_manifest": "Manifesto firmato",
        "ota_bundle": "Pacchetto",
        "ota_upload_button": "Carica",
        "ota_version": "Versione",
        "ota_seq": "sequenza",
        "ota_hardware": "Hardware",
        "ota_size": "Dimensione",
        "ota_created": "Creato",
        "ota_campaigns": "Campagne",
        "ota_campaign_col": "Campagna",
        "ota_no_campaigns": "Nessuna campagna.",
        "ota_new_campaign": "Nuova campagna",
        "ota_campaign": "Campagna {name}",
        "ota_release": "Rilascio",
        "ota_progress": "Avanzamento",
        "ota_counts": "{updated} aggiornati, {failed} falliti su {hubs}",
        "ota_target": "Hub da aggiornare",
        "ota_target_help": (
            "Senza scelte: tutti gli hub dell'hardware del rilascio che non hanno già "
            "la sua versione."
        ),
        "ota_condos": "Condomini (nessuno: tutti)",
        "ota_condos_short": "Condomini",
        "ota_hub_ids": "Solo questi hub (id separati da spazi, facoltativo)",
        "ota_from_versions": "Solo dalle versioni (nessuna: tutte)",
        "ota_from_short": "Dalle versioni",
        "ota_every_hub": "tutti gli hub {hw}",
        "ota_waves_title": "Ondate",
        "ota_waves": "Ondate: percentuali cumulative, l'ultima 100 (1 = un solo hub di prova)",
        "ota_success": "Passa all'ondata dopo con almeno questa quota di aggiornati (%)",
        "ota_failure": "Si ferma da sola se i falliti di un'ondata superano (%)",
        "ota_thresholds": "Soglie",
        "ota_thresholds_text": "avanza con {success}% aggiornati, si ferma oltre {failure}% falliti",
        "ota_window": "Finestra di manutenzione (ora locale, facoltativa)",
        "ota_window_from": "Dalle",
        "ota_window_to": "Alle",
        "ota_any_time": "a qualsiasi ora",
        "ota_start_now": "Avvia subito",
        "ota_create": "Crea la campagna",
        "ota_started": "Avviata",
        "ota_finished": "Chiusa",
        "ota_not_started": "La campagna non è ancora avviata.",
        "ota_current_wave": "ondata attuale: {n}",
        "ota_wave": "Ondata",
        "ota_wave_waiting": "in attesa",
        "ota_wave_line": "{updated} aggiornati, {failed} falliti, {in_progress} in corso su {hubs}",
        "ota_paused_itself": "Si è fermata da sola: {reason}",
        "ota_paused_by": "Messa in pausa da {who}: {reason}",
        "ota_pause_reason": "Motivo",
        "ota_act_start": "Avvia",
        "ota_act_pause": "Metti in pausa",
        "ota_act_resume": "Riprendi",
        "ota_act_cancel": "Annulla la campagna",
        "ota_deployments": "Hub della campagna",
        "ota_result": "Esito",
        "ota_detail": "Dettagli",
        "ota_blocks": "Blocchi inviati",
        "ota_changed": "Ultimo cambio",
        "ota_cstate_draft": "bozza",
        "ota_cstate_running": "in corso",
        "ota_cstate_paused": "in pausa",
        "ota_cstate_finished": "conclusa",
        "ota_cstate_cancelled": "annullata",
        "ota_dstate_idle": "in coda",
        "ota_dstate_waiting": "rimandato per sicurezza",
        "ota_dstate_downloading": "scaricamento",
        "ota_dstate_downloaded": "scaricato",
        "ota_dstate_updating": "installazione",
        "ota_dstate_confirming": "in verifica",
        "ota_dstate_updated": "aggiornato",
        "ota_dstate_failed": "fallito",
        "ota_res_integrity": "pacchetto non integro",
        "ota_res_signature": "firma non valida",
        "ota_res_sequence": "versione più vecchia",
        "ota_res_hardware": "hardware diverso",
        "ota_res_out of space": "spazio insufficiente",
        "ota_res_connection lost": "connessione persa",
        "ota_res_rolled back": "tornato alla versione precedente",
        "ota_res_timed out": "scaduto il tempo",
        "ota_res_deferred too long": "rimandato troppo a lungo",
        "ota_res_cancelled": "campagna annullata",
        "ota_notice": (
            "Aggiornamento del sistema: il monitoraggio di {name} si fermerà per circa "
            "{seconds} secondi"
        ),
        "ota_notice_now": (
            "Aggiornamento del sistema in corso: il monitoraggio di {name} è fermo per circa "
            "{seconds} secondi"
        ),
    }
)
_EN.update(
    {
        "ota": "Updates",
        "ota_releases": "Releases",
        "ota_no_releases": "No release uploaded.",
        "ota_upload": "Upload a release",
        "ota_upload_intro": (
            "The signed manifest (manifest.cose) and the bundle (bundle.bin) as "
            "tools/release.py writes them; the bundle at most {kb} kB."
        ),
        "ota_manifest": "Signed manifest",
        "ota_bundle": "Bundle",
        "ota_upload_button": "Upload",
        "ota_version": "Version",
        "ota_seq": "sequence",
        "ota_hardware": "Hardware",
        "ota_size": "Size",
        "ota_created": "Created",
        "ota_campaigns": "Campaigns",
        "ota_campaign_col": "Campaign",
        "ota_no_campaigns": "No campaigns.",
        "ota_new_campaign": "New campaign",
        "ota_campaign": "Campaign {name}",
        "ota_release": "Release",
        "ota_progress": "Progress",
        "ota_counts": "{updated} updated, {failed} failed of {hubs}",
        "ota_target": "Hubs to update",
        "ota_target_help": (
            "With nothing chosen: every hub of the release's hardware not already running "
            "its version."
        ),
        "ota_condos": "Condominiums (none: all)",
        "ota_condos_short": "Condominiums",
        "ota_hub_ids": "Only these hubs (ids separated by spaces, optional)",
        "ota_from_versions": "Only from versions (none: all)",
        "ota_from_short": "From versions",
        "ota_every_hub": "every {hw} hub",
        "ota_waves_title": "Waves",
        "ota_waves": "Waves: cumulative percentages, the last 100 (1 = a single canary hub)",
        "ota_success": "Open the next wave once this share is updated (%)",
        "ota_failure": "Pause by itself when a wave's failures exceed (%)",
        "ota_thresholds": "Thresholds",
        "ota_thresholds_text": "advances at {success}% updated, pauses past {failure}% failed",
        "ota_window": "Maintenance window (local time, optional)",
        "ota_window_from": "From",
        "ota_window_to": "To",
        "ota_any_time": "any time",
        "ota_start_now": "Start now",
        "ota_create": "Create the campaign",
        "ota_started": "Started",
        "ota_finished": "Ended",
        "ota_not_started": "The campaign has not started yet.",
        "ota_current_wave": "current wave: {n}",
        "ota_wave": "Wave",
        "ota_wave_waiting": "waiting",
        "ota_wave_line": "{updated} updated, {failed} failed, {in_progress} in progress of {hubs}",
        "ota_paused_itself": "It paused by itself: {reason}",
        "ota_paused_by": "Paused by {who}: {reason}",
        "ota_pause_reason": "Reason",
        "ota_act_start": "Start",
        "ota_act_pause": "Pause",
        "ota_act_resume": "Resume",
        "ota_act_cancel": "Cancel the campaign",
        "ota_deployments": "Hubs in this campaign",
        "ota_result": "Result",
        "ota_detail": "Detail",
        "ota_blocks": "Blocks served",
        "ota_changed": "Last change",
        "ota_cstate_draft": "draft",
        "ota_cstate_running": "running",
        "ota_cstate_paused": "paused",
        "ota_cstate_finished": "finished",
        "ota_cstate_cancelled": "cancelled",
        "ota_dstate_idle": "queued",
        "ota_dstate_waiting": "held back for safety",
        "ota_dstate_downloading": "downloading",
        "ota_dstate_downloaded": "downloaded",
        "ota_dstate_updating": "installing",
        "ota_dstate_confirming": "confirming",
        "ota_dstate_updated": "updated",
        "ota_dstate_failed": "failed",
        "ota_res_integrity": "bundle damaged",
        "ota_res_signature": "bad signature",
        "ota_res_sequence": "older version",
        "ota_res_hardware": "other hardware",
        "ota_res_out of space": "out of space",
        "ota_res_connection lost": "connection lost",
        "ota_res_rolled back": "rolled back to the previous version",
        "ota_res_timed out": "timed out",
        "ota_res_deferred too long": "held back too long",
        "ota_res_cancelled": "campaign cancelled",
        "ota_notice": "System update: {name}'s monitoring will pause for about {seconds} seconds",
        "ota_notice_now": (
            "System update under way: {name}'s monitoring is paused for about {seconds} seconds"
        ),
    }
)


# Issue 6's later additions (C): consent, user creation, the summary, hub health history.
_IT.update(
    {
        "consent_on": "consenso registrato il {date}",
        "consent_missing": "consenso non registrato",
        "consent_missing_means": "solo allarmi (pulsante, caduta, fumo, gas, acqua)",
        "user_new": "Nuovo utente",
        "user_language": "Lingua",
        "user_password": "Password iniziale (almeno 12 caratteri; vuota: link d'invito)",
        "user_create": "Crea l'utente",
        "user_bad_fields": "Controlli nome, e-mail, ruolo e lingua.",
        "user_short_password": "La password deve avere almeno 12 caratteri.",
        "user_email_taken": "Esiste già un utente con questa e-mail.",
        "lang_it": "italiano",
        "lang_en": "inglese",
        "summary_title": "Riepilogo del mattino",
        "summary_at": "Orario del riepilogo (vuoto: nessun riepilogo)",
        "summary_preview": "Anteprima di oggi",
        "summary_off": "Nessun riepilogo del mattino.",
        "bad_time": "Scriva l'orario come 08:30, o lo lasci vuoto.",
        "health_history": "Storico della salute",
        "health_24h": "ultime 24 ore",
        "health_7d": "ultimi 7 giorni",
        "health_rssi": "Segnale Wi-Fi (dBm)",
        "health_heap": "Memoria libera (KB)",
        "health_queue": "Messaggi in coda",
        "health_none": "Nessun dato in questo periodo.",
    }
)
_EN.update(
    {
        "consent_on": "consent on record since {date}",
        "consent_missing": "consent not on record",
        "consent_missing_means": "alarms only (panic button, fall, smoke, gas, water)",
        "user_new": "New user",
        "user_language": "Language",
        "user_password": "First password (at least 12 characters; empty: an invitation link)",
        "user_create": "Create the user",
        "user_bad_fields": "Please check name, e-mail, role and language.",
        "user_short_password": "The password needs at least 12 characters.",
        "user_email_taken": "A user with this e-mail already exists.",
        "lang_it": "Italian",
        "lang_en": "English",
        "summary_title": "Morning summary",
        "summary_at": "Time of the summary (empty: no summary)",
        "summary_preview": "Today's preview",
        "summary_off": "No morning summary.",
        "bad_time": "Please write the time as 08:30, or leave it empty.",
        "health_history": "Health history",
        "health_24h": "last 24 hours",
        "health_7d": "last 7 days",
        "health_rssi": "Wi-Fi signal (dBm)",
        "health_heap": "Free memory (KB)",
        "health_queue": "Queued messages",
        "health_none": "No figures in this period.",
    }
)

# Issue 7's loose ends (G): invitations, OTA refusals and the hub's updates.
_IT.update(
    {
        "invite_made": (
            "Link d'invito per {name}, valido {hours} ore e una volta sola: lo mandi a "
            "questa persona, che sceglierà la sua password. Non sarà mostrato di nuovo."
        ),
        "invite_link": "Link d'invito",
        "invite_pending": "invito in attesa",
        "invite_new": "Nuovo link d'invito",
        "invite_title": "Scelga la sua password",
        "invite_for": "Benvenuta o benvenuto, {name}. Scelga una password per {email}.",
        "invite_password": "Nuova password (almeno 12 caratteri)",
        "invite_again": "La stessa password, di nuovo",
        "invite_save": "Salva e accedi",
        "invite_mismatch": "Le due password non coincidono.",
        "invite_gone": "Link non valido",
        "invite_gone_text": (
            "Questo link d'invito è scaduto o è già stato usato. Ne chieda uno nuovo a chi "
            "amministra Portineria."
        ),
    }
)
_EN.update(
    {
        "invite_made": (
            "Invitation link for {name}, valid for {hours} hours and once only: send it to "
            "them and they choose their own password. It will not be shown again."
        ),
        "invite_link": "Invitation link",
        "invite_pending": "invitation pending",
        "invite_new": "New invitation link",
        "invite_title": "Choose your password",
        "invite_for": "Welcome, {name}. Choose a password for {email}.",
        "invite_password": "New password (at least 12 characters)",
        "invite_again": "The same password again",
        "invite_save": "Save and log in",
        "invite_mismatch": "The two passwords differ.",
        "invite_gone": "Link not valid",
        "invite_gone_text": (
            "This invitation link has expired or was used already. Please ask whoever "
            "runs Portineria for a new one."
        ),
    }
)
_IT.update(
    {
        "ota_r_window_time": "Scriva gli orari della finestra come 02:00, non «{text}».",
        "ota_r_waves_whole": "Le ondate sono percentuali intere, per esempio 1, 10, 50, 100.",
        "ota_r_waves_range": "Le ondate sono percentuali da 1 a 100 e l'ultima è 100.",
        "ota_r_waves_grow": "Ogni ondata deve essere più grande della precedente.",
        "ota_r_hardware_mismatch": "La versione {version} è per {hw}, non per {other}.",
        "ota_r_shares": "Le soglie sono percentuali: successo sopra 0, fallimento sotto 100.",
        "ota_r_window_shape": "La finestra ha un inizio e una fine.",
        "ota_r_window_empty": "L'inizio e la fine della finestra devono essere diversi.",
        "ota_r_wrong_state": "Una campagna {state} non si può {action}.",
        "ota_verb_start": "avviare",
        "ota_verb_pause": "mettere in pausa",
        "ota_verb_resume": "riprendere",
        "ota_verb_cancel": "annullare",
        "ota_r_no_hub": "Nessun hub corrisponde a questa campagna.",
        "ota_r_no_release_keys": "Nessuna chiave di firma fidata: imposti FLEET_RELEASE_KEYS.",
        "ota_r_untrusted_key": "Il manifesto è firmato con una chiave non fidata.",
        "ota_r_bad_signature": "La firma del manifesto non è valida.",
        "ota_r_not_signed": "Questo file non è un manifesto firmato.",
        "ota_r_manifest_format": "Il manifesto non ha il formato previsto.",
        "ota_r_size_mismatch": "Il pacchetto è di {size} byte, il manifesto ne indica {said}.",
        "ota_r_manifest_not_cbor": "Il contenuto del manifesto non è leggibile (CBOR).",
        "ota_r_manifest_seq": "Il numero di sequenza del manifesto manca o non è valido.",
        "ota_r_manifest_field": "Nel manifesto manca il campo {field}, o non è un testo breve.",
        "ota_r_release_keys_unreadable": "Non riesco a leggere le chiavi fidate {path}: {error}",
        "ota_r_release_keys_invalid": "{path} non è un file ota.keys ([[kid, chiave], ...]).",
        "ota_r_no_release": "Questa versione non esiste.",
        "ota_r_no_campaign": "Questa campagna non esiste.",
        "ota_r_digest_mismatch": "Il pacchetto non corrisponde al manifesto (SHA-256 diverso).",
        "ota_r_too_big": "Il file {what} supera {limit} byte.",
        "ota_file_manifest": "del manifesto",
        "ota_file_bundle": "del pacchetto",
        "ota_r_duplicate_seq": "Una versione con numero di sequenza {seq} è già caricata.",
        "ota_r_not_percentage": "«{text}» non è una percentuale.",
        "ota_r_choose_file": "Scelga il file {what}.",
        "ota_r_choose_release": "Scelga una versione.",
        "ota_r_paused_by_hand": "in pausa a mano",
        "ota_r_wave_failed": "ondata {wave}: {failed} hub su {hubs} non si sono aggiornati",
        # A hub's deployment (its detail column; the held ones also end the caregiver's notice).
        "ota_r_held_emergencies": "l'hub ha eventi di emergenza non ancora consegnati",
        "ota_r_held_alert": "c'è un allarme aperto per un residente",
        "ota_r_timed_out": "tempo scaduto nella fase «{in_state}»",
        "ota_r_deferred_too_long": "rimandato troppo a lungo (fase «{in_state}»)",
        "ota_r_progress": "{bytes} byte scaricati",
        "ota_r_verified": "{version} scaricata e verificata",
        "ota_r_installing": "installazione di {version}",
        "ota_r_reported": "l'hub ha {version}, si attendono i suoi primi dati",
        "ota_r_rolled_back": (
            "{version} non ha superato la prova: l'hub è tornato alla versione precedente"
        ),
        "ota_r_hub_failed": "non riuscito, l'hub riprova alla prossima offerta: {error}",
        "ota_r_refused_signature": "rifiutato dall'hub: nessuna chiave fidata ha firmato",
        "ota_r_refused_manifest": "rifiutato dall'hub: manifesto illeggibile",
        "ota_r_refused_sequence": "rifiutato dall'hub: non è più recente di quanto ha già avuto",
        "ota_r_refused_hardware": "rifiutato dall'hub: è per un altro hardware",
        "ota_r_refused_space": "rifiutato dall'hub: spazio insufficiente nella memoria",
        "ota_r_refused_size": "rifiutato dall'hub: pacchetto più lungo di quanto dice il manifesto",
        "ota_r_refused_integrity": "rifiutato dall'hub: il pacchetto non corrisponde al manifesto",
        "ota_r_refused": "rifiutato dall'hub: {text}",
        "ota_notice_held": "{notice}. L'aggiornamento è rimandato finché {why}",
        "hub_no_updates": "Nessun aggiornamento per questo hub.",
    }
)
_EN.update(
    {
        "ota_r_window_time": "Please write the window's times as 02:00, not “{text}”.",
        "ota_r_waves_whole": "Waves are whole percentages, e.g. 1, 10, 50, 100.",
        "ota_r_waves_range": "Waves are percentages from 1 to 100, the last one 100.",
        "ota_r_waves_grow": "Each wave must be larger than the one before.",
        "ota_r_hardware_mismatch": "Release {version} is for {hw}, not {other}.",
        "ota_r_shares": "Thresholds are percentages: success above 0, failure below 100.",
        "ota_r_window_shape": "A window has a start and an end.",
        "ota_r_window_empty": "The window's start and end must differ.",
        "ota_r_wrong_state": "A {state} campaign cannot be {action}.",
        "ota_verb_start": "started",
        "ota_verb_pause": "paused",
        "ota_verb_resume": "resumed",
        "ota_verb_cancel": "cancelled",
        "ota_r_no_hub": "No hub matches this campaign.",
        "ota_r_no_release_keys": "No trusted release keys: set FLEET_RELEASE_KEYS.",
        "ota_r_untrusted_key": "The manifest is signed by an untrusted key.",
        "ota_r_bad_signature": "The manifest's signature does not verify.",
        "ota_r_not_signed": "This file is not a signed manifest.",
        "ota_r_manifest_format": "The manifest is not in the expected format.",
        "ota_r_size_mismatch": "The bundle is {size} bytes; the manifest says {said}.",
        "ota_r_manifest_not_cbor": "The manifest's content is not readable (CBOR).",
        "ota_r_manifest_seq": "The manifest's sequence number is missing or out of range.",
        "ota_r_manifest_field": "The manifest's {field} is missing or not short text.",
        "ota_r_release_keys_unreadable": "Cannot read the trusted release keys {path}: {error}",
        "ota_r_release_keys_invalid": "{path} is not an ota.keys file ([[kid, key], ...]).",
        "ota_r_no_release": "No such release.",
        "ota_r_no_campaign": "No such campaign.",
        "ota_r_digest_mismatch": "The bundle does not match the manifest (SHA-256 differs).",
        "ota_r_too_big": "The {what} file is larger than {limit} bytes.",
        "ota_file_manifest": "manifest",
        "ota_file_bundle": "bundle",
        "ota_r_duplicate_seq": "A release with sequence number {seq} is already stored.",
        "ota_r_not_percentage": "“{text}” is not a percentage.",
        "ota_r_choose_file": "Please choose the {what} file.",
        "ota_r_choose_release": "Please choose a release.",
        "ota_r_paused_by_hand": "paused by hand",
        "ota_r_wave_failed": "wave {wave}: {failed} of {hubs} hubs failed",
        "ota_r_held_emergencies": "the hub has emergency events not yet delivered",
        "ota_r_held_alert": "an alert is open for a resident",
        "ota_r_timed_out": "timed out while {in_state}",
        "ota_r_deferred_too_long": "held back too long (while {in_state})",
        "ota_r_progress": "{bytes} bytes downloaded",
        "ota_r_verified": "{version} downloaded and verified",
        "ota_r_installing": "installing {version}",
        "ota_r_reported": "the hub runs {version}; its first data awaited",
        "ota_r_rolled_back": "{version} failed its trial: the hub went back to the previous one",
        "ota_r_hub_failed": "failed, the hub tries again at the next offer: {error}",
        "ota_r_refused_signature": "refused by the hub: no trusted key signed it",
        "ota_r_refused_manifest": "refused by the hub: the manifest is unreadable",
        "ota_r_refused_sequence": "refused by the hub: not newer than what it has run",
        "ota_r_refused_hardware": "refused by the hub: made for other hardware",
        "ota_r_refused_space": "refused by the hub: not enough flash",
        "ota_r_refused_size": "refused by the hub: the bundle is longer than the manifest says",
        "ota_r_refused_integrity": "refused by the hub: the bundle does not match the manifest",
        "ota_r_refused": "refused by the hub: {text}",
        "ota_notice_held": "{notice}. The update waits while {why}",
        "hub_no_updates": "No updates for this hub.",
    }
)

# A caregiver's phone (T5): the alert's own page (the link in every notification), the
# confirmations after acting on an alert, and plain words where there was jargon.
_IT.update(
    {
        "today_at": "oggi alle {time}",
        "yesterday_at": "ieri alle {time}",
        "date_at": "il {date} alle {time}",
        "alert_opened": "Aperto {when}",
        "alert_nobody_yet": "Nessuno se ne sta ancora occupando.",
        "alert_details": "Cosa fare e chi è stato avvisato",
        "alert_now": "Cosa fare adesso",
        "alert_ack_means": (
            "Quando se ne occupa, prema «Ho visto, me ne occupo»: gli altri lo vedranno e "
            "non riceveranno altri avvisi."
        ),
        "alert_told": "Chi è stato avvisato",
        "alert_told_none": "Nessuno ancora: gli avvisi stanno partendo.",
        "alert_told_you": "Lei",
        "alert_next_you": "di nuovo lei",
        "alert_next": "Se nessuno se ne occupa entro le {when}, avviseremo: {names}.",
        "alert_closed_handled": "Chiuso da {who} {when}: risolto.",
        "alert_closed_false": "Chiuso da {who} {when}: falso allarme.",
        "alert_closed_itself": "Chiuso da solo {when}: la situazione è tornata normale.",
        "done_ack": (
            "Grazie: ora tutti vedono che se ne occupa lei, e non avviseremo altre persone."
        ),
        "done_resolved": "Allarme chiuso. Grazie.",
        "why_hub_offline": (
            "l'apparecchio del condominio non è collegato: i sensori ora non possono avvisarci"
        ),
        "no_sensors": "Nessun sensore in casa per ora: l'attività comparirà qui.",
        "hub_of_flat": "Hub dell'interno {flats}",
        "hub_of_flats": "Hub degli interni {flats}",
        "hub_no_flats": "Hub ancora senza sensori",
        "ev_window": "finestra",
        "ev_chair": "poltrona",
        "ev_temperature": "temperatura",
        "ev_humidity": "umidità",
        "act_provision": "preparato",
        "act_claim": "assegnato al condominio",
        "act_activate": "collegato per la prima volta",
        "act_revoke": "revocato",
        "act_reprovision": "preparato di nuovo",
        "reset_power-on": "accensione",
        "reset_hard": "pulsante di reset",
        "reset_watchdog": "blocco, riavviato da solo",
        "reset_deepsleep": "risveglio",
        "reset_soft": "riavvio del programma",
    }
)
_EN.update(
    {
        "today_at": "today at {time}",
        "yesterday_at": "yesterday at {time}",
        "date_at": "on {date} at {time}",
        "alert_opened": "Opened {when}",
        "alert_nobody_yet": "Nobody is taking care of it yet.",
        "alert_details": "What to do and who was told",
        "alert_now": "What to do now",
        "alert_ack_means": (
            "When you take it on, press “Seen, I'm on it”: the others will see it and will "
            "not be alerted again."
        ),
        "alert_told": "Who was told",
        "alert_told_none": "Nobody yet: the alerts are on their way.",
        "alert_told_you": "You",
        "alert_next_you": "you again",
        "alert_next": "If nobody takes it on by {when}, we will alert: {names}.",
        "alert_closed_handled": "Closed by {who} {when}: resolved.",
        "alert_closed_false": "Closed by {who} {when}: false alarm.",
        "alert_closed_itself": "Closed by itself {when}: things are back to normal.",
        "done_ack": "Thank you: everyone can now see that you are on it; nobody else will be alerted.",
        "done_resolved": "Alert closed. Thank you.",
        "why_hub_offline": "the building's device is not connected: the sensors cannot reach us",
        "no_sensors": "No sensors in the flat yet: activity will show here.",
        "hub_of_flat": "Hub of flat {flats}",
        "hub_of_flats": "Hub of flats {flats}",
        "hub_no_flats": "Hub with no sensors yet",
        "ev_window": "window",
        "ev_chair": "chair",
        "ev_temperature": "temperature",
        "ev_humidity": "humidity",
        "act_provision": "provisioned",
        "act_claim": "assigned to the condominium",
        "act_activate": "first connected",
        "act_revoke": "revoked",
        "act_reprovision": "provisioned again",
        "reset_power-on": "power on",
        "reset_hard": "reset button",
        "reset_watchdog": "stuck, restarted itself",
        "reset_deepsleep": "wake from sleep",
        "reset_soft": "program restart",
    }
)

# Plain words for a caregiver (T9): a request the page cannot use, the folding menu on a
# phone, each rule on a resident's day by name (the technical one in plain words), and
# each sensor named by what it is.
_IT.update(
    {
        "bad_request": "Richiesta non valida",
        "bad_request_text": (
            "L'indirizzo o il modulo contiene un valore che non possiamo usare. Torni alla "
            "pagina precedente e riprovi."
        ),
        "menu": "Menu",
        "rule_name_alarms": "Allarmi",
        "rule_name_inactivity": "Nessun movimento in casa",
        "rule_name_not_up": "Risveglio",
        "rule_name_night_door": "Porta di notte",
        "rule_name_bathroom": "Tempo in bagno",
        "rule_name_climate": "Caldo e freddo",
        "rule_name_technical": "Apparecchi",
        "sensor_motion": "sensore di movimento",
        "sensor_door": "sensore della porta",
        "sensor_window": "sensore della finestra",
        "sensor_bed": "sensore del letto",
        "sensor_chair": "sensore della poltrona",
        "sensor_panic": "pulsante di emergenza",
        "sensor_fall": "sensore di caduta",
        "sensor_smoke": "rilevatore di fumo",
        "sensor_gas": "rilevatore di gas",
        "sensor_water": "sensore di allagamento",
        "sensor_mains": "controllo della corrente",
        "sensor_button": "pulsante",
        "sensor_temperature": "termometro",
        "sensor_humidity": "sensore di umidità",
        "sensor_illuminance": "sensore di luce",
        "sensor_other": "sensore",
    }
)
_EN.update(
    {
        "bad_request": "Request not valid",
        "bad_request_text": (
            "The address or the form holds a value we cannot use. Please go back to the "
            "previous page and try again."
        ),
        "menu": "Menu",
        "rule_name_alarms": "Alarms",
        "rule_name_inactivity": "No movement at home",
        "rule_name_not_up": "Getting up",
        "rule_name_night_door": "Door at night",
        "rule_name_bathroom": "Time in the bathroom",
        "rule_name_climate": "Heat and cold",
        "rule_name_technical": "Equipment",
        "sensor_motion": "motion sensor",
        "sensor_door": "door sensor",
        "sensor_window": "window sensor",
        "sensor_bed": "bed sensor",
        "sensor_chair": "chair sensor",
        "sensor_panic": "panic button",
        "sensor_fall": "fall sensor",
        "sensor_smoke": "smoke detector",
        "sensor_gas": "gas detector",
        "sensor_water": "water leak sensor",
        "sensor_mains": "mains power check",
        "sensor_button": "button",
        "sensor_temperature": "thermometer",
        "sensor_humidity": "humidity sensor",
        "sensor_illuminance": "light sensor",
        "sensor_other": "sensor",
    }
)

# Walk-test mode (T7): the volunteer's walk-test page and the caregiver's note.
_IT.update(
    {
        "wt_off": (
            "Finché la prova non è avviata, il pulsante di emergenza e gli allarmi fanno partire "
            "un allarme vero, che arriva alla famiglia."
        ),
        "wt_how": (
            "Avvii la prova prima di premere il pulsante o far scattare un allarme: per il tempo "
            "scelto, la prima segnalazione di ogni pulsante e allarme di questo hub non avvisa "
            "la famiglia. Una seconda pressione dello stesso pulsante la avvisa davvero: chi "
            "preme di nuovo chiede aiuto. La prova finisce da sola allo scadere, o 2 minuti "
            "dopo che lei chiude questa pagina. Gli altri hub non cambiano."
        ),
        "wt_minutes": "Durata",
        "wt_minutes_n": "{n} minuti",
        "wt_start": "Avvia la prova",
        "wt_running": (
            "Prova in corso: la prima segnalazione di ogni pulsante e allarme di questo hub "
            "non avvisa la famiglia. Una seconda pressione dello stesso pulsante la avvisa."
        ),
        "wt_left": "Tempo rimasto:",
        "wt_leave": (
            "Tenga aperta questa pagina: chiusa la pagina, la prova finisce dopo 2 minuti e "
            "gli allarmi tornano ad avvisare la famiglia."
        ),
        "wt_end": "Termina la prova",
        "wt_ended": "Prova finita alle {time}: gli allarmi di questo hub avvisano di nuovo la famiglia.",
        "wt_log": "Ricevuto dall'hub",
        "wt_was_test": "ricevuto, è la prova: famiglia non avvisata",
        "wt_was_real": "ricevuto, allarme vero: famiglia avvisata",
        "wt_care_note": (
            "Fino alle {time} un volontario prova i sensori di casa di {name}: la prima "
            "pressione di ogni pulsante non vi arriva come allarme, una seconda sì."
        ),
    }
)
_EN.update(
    {
        "wt_off": (
            "Until the test is started, the panic button and the alarms raise a real alert, "
            "which reaches the family."
        ),
        "wt_how": (
            "Start the test before pressing the button or setting off an alarm: for the time "
            "chosen, the first signal of each button and alarm of this hub does not alert the "
            "family. A second press of the same button does: whoever presses again is asking "
            "for help. The test ends by itself when the time is up, or 2 minutes after you "
            "close this page. Other hubs are not affected."
        ),
        "wt_minutes": "Length",
        "wt_minutes_n": "{n} minutes",
        "wt_start": "Start the test",
        "wt_running": (
            "Test under way: the first signal of each button and alarm of this hub does not "
            "alert the family. A second press of the same button does."
        ),
        "wt_left": "Time left:",
        "wt_leave": (
            "Keep this page open: once it is closed, the test ends after 2 minutes and the "
            "alarms alert the family again."
        ),
        "wt_end": "End the test",
        "wt_ended": "Test ended at {time}: this hub's alarms alert the family again.",
        "wt_log": "Received from the hub",
        "wt_was_test": "received, it is the test: family not alerted",
        "wt_was_real": "received, a real alarm: family alerted",
        "wt_care_note": (
            "Until {time} a volunteer is testing the sensors in {name}'s home: the first press "
            "of each button does not reach you as an alarm, a second one does."
        ),
    }
)
