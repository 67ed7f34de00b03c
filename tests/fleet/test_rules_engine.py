"""The rules engine on hand-made streams: each rule's trigger and non-trigger, auto-clear
semantics, holiday and out-of-home suppression, time zones."""

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fleet.rules import (
    CARE,
    CRITICAL,
    TECH,
    TECHNICAL,
    URGENT,
    WARNING,
    Engine,
    Observation,
    SensorHealth,
    Settings,
    routine,
)
from tests.fleet.rules_sim import play

ROME = ZoneInfo("Europe/Rome")


def at(day, hhmm, month=3, year=2026):
    """Epoch seconds of a wall-clock time in Rome (days past the month's end roll over)."""
    h, m = map(int, hhmm.split(":"))
    d = date(year, month, 1) + timedelta(days=day - 1)
    return datetime(d.year, d.month, d.day, h, m, tzinfo=ROME).timestamp()


def eng(**kw):
    return Engine(Settings(name="Maria", **kw))


def run_until(e, end):
    """Evaluate at every instant the engine asks for, up to end; the raised/cleared items."""
    out = []
    due = e.next_due()
    while due is not None and due <= end:
        ch = e.evaluate(due)
        out += ch.raised + ch.cleared
        due = e.next_due()
    ch = e.evaluate(end)
    return out + ch.raised + ch.cleared


def rules(items):
    return [(getattr(i, "rule", None) or i.condition.rule, type(i).__name__) for i in items]


def day_of_routine(e, day, month=3, wake="07:00", bed="22:00"):
    """A quiet, regular day: out of bed at wake, about every 10 min in the kitchen or living
    room, bed at bedtime."""
    start, end = at(day, wake, month), at(day, bed, month)
    e.observe(Observation(start, "bed", "bedroom", False))
    t = start + 120
    while t < end:
        e.observe(Observation(t, "motion", "kitchen" if int(t // 600) % 3 else "living"))
        t += 600
    e.observe(Observation(end, "bed", "bedroom", True))


def learned(days=15, first=1, month=3, **kw):
    e = eng(**kw)
    e.observe(Observation(at(first, "00:00"), "bed", "bedroom", True))  # watched from midnight
    for d in range(first, first + days):
        day_of_routine(e, d, month)
    return e


# --- critical ------------------------------------------------------------------------------


def test_panic_is_critical_at_once_folds_repeats_and_never_clears_by_itself():
    e = eng()
    ch = e.observe(Observation(at(2, "10:00"), "panic", "living"))
    (c,) = ch.raised
    assert (c.rule, c.severity, c.since, c.auto) == ("panic", CRITICAL, at(2, "10:00"), False)
    assert c.text("it") == "Maria ha premuto il pulsante di emergenza alle 10:00."
    assert c.text("en") == "Maria pressed the panic button at 10:00."
    assert not e.observe(Observation(at(2, "10:01"), "panic", "living"))  # folded
    assert c.facts["repeats"] == 1
    assert not e.observe(Observation(at(2, "10:05"), "motion", "living")).cleared
    assert "Cleared" not in [kind for _, kind in rules(run_until(e, at(3, "10:00")))]
    assert ("panic", None) in e.raised
    assert e.resolve("panic").reason == "resolved"
    assert rules(e.observe(Observation(at(3, "11:00"), "panic", "living")).raised) == [
        ("panic", "Condition")
    ]


@pytest.mark.parametrize("kind", ["fall", "smoke", "gas", "water"])
def test_fall_and_alarms_never_clear_when_the_contact_opens(kind):
    e = eng()
    (c,) = e.observe(Observation(at(2, "10:00"), kind, "kitchen", True)).raised
    assert c.severity == CRITICAL
    assert not e.observe(Observation(at(2, "10:10"), kind, "kitchen", False))
    assert e.raised[c.key] is c


def test_button_press_is_panic_and_long_press_a_fall():
    e = eng()
    assert e.observe(Observation(at(2, "10:00"), "button", "living", "press")).raised[0].rule == (
        "panic"
    )
    assert e.observe(Observation(at(2, "10:01"), "button", None, "long_press")).raised[0].rule == (
        "fall"
    )
    assert not eng(button_panic=False).observe(Observation(at(2, "10:00"), "button", None, "press"))


def test_smoke_explained_with_the_room_in_both_languages():
    (c,) = eng().observe(Observation(at(2, "10:00"), "smoke", "kitchen")).raised
    assert c.text("it") == "Allarme fumo in cucina alle 10:00."
    assert c.text("en") == "Smoke alarm in the kitchen at 10:00."


# --- inactivity ----------------------------------------------------------------------------


def test_inactivity_while_learning_uses_the_default_day_limit_and_clears_on_activity():
    e = eng()
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    assert not run_until(e, at(2, "12:59"))
    (c,) = run_until(e, at(2, "13:00"))
    assert (c.rule, c.severity, c.since, c.at, c.audience) == (
        "inactivity",
        URGENT,
        at(2, "09:00"),
        at(2, "13:00"),
        CARE,
    )
    assert "4 ore" in c.text("it") and "4 h" in c.text("en")
    (cl,) = e.observe(Observation(at(2, "13:20"), "motion", "living")).cleared
    assert (cl.reason, cl.at) == ("activity", at(2, "13:20"))
    assert cl.text("it") == "Attività ripresa alle 13:20."
    assert cl.text("en") == "Activity resumed at 13:20."


def test_bedroom_motion_does_not_reset_inactivity_by_default():
    for resets, expect in ((False, ["inactivity"]), (True, [])):
        e = eng(bedroom_resets=resets)
        obs = [Observation(at(2, "09:00"), "motion", "living")]
        obs += [Observation(at(2, "09:00") + 600 * k, "motion", "bedroom") for k in range(1, 30)]
        assert [r for r, _ in rules(play(e, obs, at(2, "14:00")))] == expect


def test_out_of_home_suppresses_inactivity_until_the_hard_limit():
    e = eng()
    e.observe(Observation(at(2, "08:59"), "motion", "entrance"))
    e.observe(Observation(at(2, "09:00"), "door", "entrance", True))
    e.observe(Observation(at(2, "09:00") + 8, "door", "entrance", False))
    e.observe(Observation(at(2, "09:00") + 11, "motion", "entrance"))  # the door itself, not her
    assert e.out
    assert not run_until(e, at(2, "20:59"))
    (c,) = run_until(e, at(2, "21:01"))
    assert c.facts["how"] == "out"
    assert c.text("en") == "Maria went out at 09:00 and has not come back for 12 h."
    e.observe(Observation(at(2, "21:30"), "door", "entrance", True))
    e.observe(Observation(at(2, "21:30") + 3, "motion", "living"))
    assert not e.out and ("inactivity", None) not in e.raised


def test_coming_home_and_collapsing_is_not_mistaken_for_going_out():
    e = eng()
    e.observe(Observation(at(2, "09:00"), "door", "entrance", True))
    e.observe(Observation(at(2, "09:00") + 1, "motion", "living"))
    e.observe(Observation(at(2, "09:00") + 8, "door", "entrance", False))
    assert not e.out
    assert rules(run_until(e, at(2, "13:01"))) == [("inactivity", "Condition")]


def test_holiday_mode_suppresses_and_counts_from_the_return():
    e = eng(away_until=at(10, "17:00"))
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    assert not run_until(e, at(10, "16:59"))
    r = routine(e, "en")
    assert {x["rule"]: x["note"] for x in r["rules"]}["inactivity"] == "paused: holiday mode"
    assert not run_until(e, at(10, "20:59"))
    (c,) = run_until(e, at(10, "21:01"))  # 4 h after the end of the holiday, by day rules
    assert c.since == at(10, "17:00")


def test_setting_holiday_mode_clears_a_raised_inactivity_with_that_reason():
    e = eng()
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    run_until(e, at(2, "13:30"))
    e.set_settings(e.settings.with_(away_until=at(5, "12:00")))
    (cl,) = e.evaluate(at(2, "13:31")).cleared
    assert cl.reason == "away"
    assert cl.text("it") == "Modalità vacanza attiva alle 13:31."


def test_learning_is_visible_then_learned_limits_apply():
    e = learned(days=9)
    e.evaluate(at(10, "12:00"))
    r = routine(e, "en")
    assert r["learning"] and r["status"] == "learning: 9 of 14 days"
    assert routine(e, "it")["status"] == "in apprendimento: 9 giorni su 14"
    e = learned(days=16)
    r = routine(e, "en")
    assert not r["learning"] and r["days"] == 15  # the 16th is final at noon of the 17th
    assert r["wake"] == "07:02" and r["bedtime"] == "22:00"
    assert r["quiet_limits"][10] == {"hour": 10, "limit_s": 3600, "how": "learned"}
    bed = e.limit_at(23 * 60, in_bed=True)
    assert bed[1] == "learned_bed" and 9 * 3600 * 1.25 < bed[0] <= 12 * 3600
    notes = {x["rule"]: x for x in r["rules"]}
    assert notes["not_up"]["active"] and notes["not_up"]["note"] == (
        "usually up by 07:02: alert at 08:02"
    )


def test_a_fall_at_ten_is_detected_after_the_learned_limit():
    e = learned(days=16)
    e.observe(Observation(at(17, "07:00"), "bed", "bedroom", False))
    e.observe(Observation(at(17, "07:10"), "motion", "kitchen"))
    e.observe(Observation(at(17, "10:00"), "motion", "living"))
    (c,) = run_until(e, at(17, "12:00"))
    assert (c.rule, c.at) == ("inactivity", at(17, "11:00"))
    assert c.text("it") == (
        "Nessuna attività in casa da 1 ora (dalle 10:00); a quest'ora per Maria di solito "
        "non passano più di 1 ora senza attività."
    )
    assert c.text("en") == (
        "No activity in the flat for 1 h (since 10:00); at this time of day Maria is usually "
        "never quiet for more than 1 h."
    )


# --- not up by usual time ------------------------------------------------------------------


def test_not_up_by_usual_time_raised_on_the_timer_and_cleared_by_kitchen_activity():
    e = learned(days=16)
    e.observe(Observation(at(17, "06:00"), "motion", "bedroom"))
    (c,) = run_until(e, at(17, "08:10"))
    assert (c.rule, c.since, c.at) == ("not_up", at(17, "08:02"), at(17, "08:02"))
    c.at = at(17, "09:30")  # as explained later in the morning
    assert c.text("it") == (
        "Maria di solito si alza entro le 07:02; sono le 09:30 e non c'è stata attività"
    )
    assert (
        c.text("en") == "Maria is usually up by 07:02; it is 09:30 and there has been no activity"
    )
    (cl,) = e.observe(Observation(at(17, "08:15"), "motion", "kitchen")).cleared
    assert cl.reason == "up" and cl.text("en") == "Morning activity seen at 08:15."


def test_not_up_only_bathroom_at_night_does_not_count_as_up():
    e = eng(wake_time="07:30")
    e.observe(Observation(at(2, "03:00"), "motion", "living"))  # watched from before 04:00
    e.observe(Observation(at(2, "05:00"), "motion", "bathroom"))
    assert ("not_up", "Condition") in rules(run_until(e, at(2, "08:31")))
    e = eng(wake_time="07:30")
    e.observe(Observation(at(2, "03:00"), "motion", "living"))
    e.observe(Observation(at(2, "07:40"), "motion", "kitchen"))
    assert not [r for r in rules(run_until(e, at(2, "08:31"))) if r[0] == "not_up"]


def test_wake_deadline_follows_local_time_across_the_dst_change():
    # 29 March 2026: Rome moves from UTC+1 to UTC+2. She keeps getting up at 07:00 local.
    e = learned(days=16, first=14, wake_margin_s=3600)
    assert routine(e)["wake"] == "07:02"
    e.observe(Observation(at(30, "05:00"), "motion", "bedroom"))
    (c,) = [x for x in run_until(e, at(30, "09:00")) if x.rule == "not_up"]
    assert c.at == at(30, "08:02")
    assert datetime.fromtimestamp(c.at, UTC).hour == 6  # 08:02 CEST, not 07:02 UTC + 1
    assert c.text("en").startswith("Maria is usually up by 07:02; it is 08:02")


def test_quiet_limits_are_per_local_hour_across_dst():
    e = learned(days=16, first=14)
    start = at(30, "10:00")
    assert datetime.fromtimestamp(start, UTC).hour == 8
    assert e.clock.local(start)[1] == 600
    assert e.limit_at(600) == (3600, "learned")


# --- night door, bathroom, climate ---------------------------------------------------------


def test_night_door_warning_clears_when_she_is_back_inside():
    e = eng()
    assert not e.observe(Observation(at(2, "21:00"), "door", "entrance", True)).raised
    (c,) = e.observe(Observation(at(2, "23:30"), "door", "entrance", True)).raised
    assert (c.rule, c.severity) == ("night_door", WARNING)
    assert c.text("it") == "La porta d'ingresso è stata aperta di notte, alle 23:30."
    e.observe(Observation(at(2, "23:30") + 20, "door", "entrance", False))
    (cl,) = e.observe(Observation(at(2, "23:31"), "motion", "living")).cleared
    assert cl.reason == "back_inside"


def test_night_window_is_configurable():
    e = Engine(Settings.from_dict({"night": ["20:00", "07:00"]}))
    assert e.observe(Observation(at(2, "20:30"), "door", "entrance", True)).raised


@pytest.mark.parametrize("start,limit", [("10:00", "10:45"), ("02:00", "02:20")])
def test_bathroom_too_long_by_day_and_by_night(start, limit):
    e = eng()
    obs = [Observation(at(2, start) + 180 * k, "motion", "bathroom") for k in range(20)]
    assert [x.at for x in play(e, obs, at(2, limit) + 1) if x.rule == "bathroom"] == [at(2, limit)]
    c = e.raised[("bathroom", None)]
    part = "di notte" if start == "02:00" else "di giorno"
    assert f"il limite {part}" in c.text("it")
    (cl,) = e.observe(Observation(at(2, limit) + 60, "motion", "bedroom")).cleared
    assert cl.reason == "left_bathroom"


def test_short_bathroom_visit_raises_nothing():
    e = eng()
    e.observe(Observation(at(2, "10:00"), "motion", "bathroom"))
    e.observe(Observation(at(2, "10:15"), "motion", "kitchen"))
    assert not [x for x in run_until(e, at(2, "11:00")) if x.rule == "bathroom"]


def feed_temps(e, start, end, c, room="living"):
    t = start
    while t <= end:
        e.observe(Observation(t, "temperature", room, c))
        t += 300


def test_heat_for_two_hours_is_a_warning_over_thirty_urgent_and_both_clear():
    e = eng()
    feed_temps(e, at(2, "12:00"), at(2, "13:55"), 27.0)
    assert not [x for x in e.raised if x[0] == "heat"]
    feed_temps(e, at(2, "14:00"), at(2, "14:00"), 27.5)
    (c,) = [c for c in e.raised.values() if c.rule == "heat"]
    assert (c.severity, c.since, c.subject) == (WARNING, at(2, "12:00"), "living")
    assert c.text("it") == "Caldo in casa in soggiorno: sopra 26 °C dalle 12:00 (ora 27,5 °C)."
    feed_temps(e, at(2, "14:05"), at(2, "14:20"), 31.0)
    assert e.raised[("heat_extreme", "living")].severity == URGENT
    cleared = e.observe(Observation(at(2, "15:00"), "temperature", "living", 25.0)).cleared
    assert sorted(c.condition.rule for c in cleared) == ["heat", "heat_extreme"]
    assert {c.reason for c in cleared} == {"temperature_normal"}
    assert cleared[0].text("en") == "Temperature back to normal at 15:00."


def test_heat_dipping_within_the_hysteresis_keeps_counting_and_cold_after_an_hour():
    e = eng()
    feed_temps(e, at(2, "12:00"), at(2, "13:00"), 26.5)
    feed_temps(e, at(2, "13:05"), at(2, "14:00"), 25.8)  # not below 25.5
    assert ("heat", "living") in e.raised
    e = eng()
    feed_temps(e, at(2, "06:00"), at(2, "06:55"), 17.0)
    assert ("cold", "living") not in e.raised
    assert ("cold", "living") in e.raised or run_until(e, at(2, "07:00"))
    assert e.raised[("cold", "living")].severity == WARNING


# --- technical -----------------------------------------------------------------------------


def test_hub_offline_to_technicians_then_family_and_inactivity_held_back():
    e = eng()
    e.set_health(hub_last_seen=at(2, "09:00"))
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    items = run_until(e, at(2, "14:00"))
    got = [(x.rule, x.audience, x.severity, x.at) for x in items]
    assert got == [
        ("hub_offline", TECH, TECHNICAL, at(2, "09:10")),
        ("monitoring_interrupted", CARE, WARNING, at(2, "09:15")),
    ]
    assert e.raised[("monitoring_interrupted", None)].text("en") == (
        "Monitoring of Maria has been interrupted since 09:00: the hub does not respond."
    )
    e.set_health(hub_last_seen=at(2, "14:00"))
    cleared = e.evaluate(at(2, "14:00")).cleared
    assert {c.reason for c in cleared} == {"back_online"}


def test_silent_sensor_and_low_battery_with_hysteresis():
    e = eng()
    e.set_health(sensors=[SensorHealth("pir1", "motion", "kitchen", 3600, at(2, "08:00"), 80)])
    e.observe(Observation(at(2, "08:30"), "motion", "living"))
    (c,) = [x for x in run_until(e, at(2, "09:01")) if x.rule == "sensor_silent"]
    assert (c.subject, c.audience, c.at) == ("pir1", TECH, at(2, "09:00"))
    assert c.text("it") == "Il sensore di movimento in cucina non dà segni di vita dalle 08:00."
    ch = e.observe(Observation(at(2, "09:05"), "motion", "kitchen", True, "pir1"))
    assert [x.reason for x in ch.cleared] == ["sensor_back"]
    (c,) = e.observe(Observation(at(2, "09:06"), "battery", None, 15, "pir1")).raised
    assert c.key == ("low_battery", "pir1")
    assert not e.observe(Observation(at(2, "09:07"), "battery", None, 22, "pir1")).cleared
    assert e.observe(Observation(at(2, "09:08"), "battery", None, 100, "pir1")).cleared


# --- inputs and persistence ----------------------------------------------------------------


def test_times_are_epoch_seconds_or_aware_datetimes():
    t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert Observation(t, "motion", "kitchen").t == t.timestamp()
    with pytest.raises(ValueError):
        Observation(datetime(2026, 3, 2, 9, 0), "motion", "kitchen")
    with pytest.raises(ValueError):
        Observation(0, "teleport")
    with pytest.raises(ValueError):
        Settings.from_dict({"wake_tim": "07:00"})
    assert Settings.from_dict({"wake_time": "07:30"}).wake_time == 450


def test_snapshot_restores_learned_routine_and_raised_conditions():
    e = learned(days=16)
    e.observe(Observation(at(17, "09:00"), "motion", "kitchen"))
    run_until(e, at(17, "10:30"))
    assert ("inactivity", None) in e.raised
    snap = json.loads(json.dumps(e.snapshot()))
    r = Engine.restore(e.settings, snap)
    assert routine(r) == routine(e)
    assert set(r.raised) == set(e.raised)
    (cl,) = r.observe(Observation(at(17, "10:40"), "motion", "living")).cleared
    assert cl.reason == "activity"


def test_a_person_closing_a_holding_condition_silences_it_until_it_clears():
    e = eng()
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    run_until(e, at(2, "13:10"))
    e.resolve("inactivity")
    assert not e.evaluate(at(2, "13:20"))
    e.observe(Observation(at(2, "13:30"), "motion", "kitchen"))
    assert rules(run_until(e, at(2, "17:31"))) == [("inactivity", "Condition")]


def test_late_observations_after_a_timer_evaluation_are_taken():
    e = eng()
    e.observe(Observation(at(2, "09:00"), "motion", "kitchen"))
    run_until(e, at(2, "14:00"))
    ch = e.observe(Observation(at(2, "13:50"), "motion", "kitchen"))  # delivered late
    assert [c.reason for c in ch.cleared] == ["activity"]
    assert e.next_due() == at(2, "13:50") + timedelta(hours=4).total_seconds()
