"""What a fleet run (emulator.fleetrun) measured, as the figures it prints: each hub
process's memory (PSS) and CPU, what the server heard (heartbeats, records, messages per
second), panics delivered (and delivered twice) and their latency percentiles. The
server's figures exist only when it runs in this process: the stand-in fleet, or the
real one (emulator.realfleet)."""

import os


def _pss_kb(pid):
    # Proportional set size: shared interpreter pages split among the processes that map
    # them, so the sum over hubs is what they really take.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def percentile(xs, p):
    """The p-th percentile of xs, by rank; NaN when xs is empty."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def _latency(r, lat):
    """r with the panic latency percentiles of lat (ms) added."""
    for p in (50, 90, 99, 100):
        r[f"panic_ms_p{p}"] = round(percentile(lat, p), 1)
    return r


def usage(pid):
    """(PSS in kB, CPU seconds) of a process so far."""
    return _pss_kb(pid), _cpu_s(pid)


def _pressed(run, hub_id):
    """When the hub's button went down (time.monotonic()): taken in the hub process when it
    acted, so that the latency does not count our message's wait on a busy machine."""
    acted = run.hubs[hub_id].acted("press_panic")
    return acted[0] if acted else run.pressed[hub_id]


def report(run, elapsed):
    """The run's figures (emulator.fleetrun.FleetRun), as a JSON-ready map."""
    r = {"hubs": len(run.hubs), "elapsed_s": round(elapsed, 1)}
    pss = [p for p, _ in run.samples.values()]
    cpu = [c for _, c in run.samples.values()]
    r["pss_mb_per_hub"] = round(sum(pss) / max(1, len(pss)) / 1024, 1)
    r["pss_mb_total"] = round(sum(pss) / 1024)
    r["cpu_s_per_hub"] = round(sum(cpu) / max(1, len(cpu)), 2)
    r["events_played"] = sum(len(v) for v in run.played.values())
    r["exited"] = run.exited
    f = run.fleet
    if f is None:
        return r
    if run.real:
        return _real(run, r, elapsed)
    beats = {h for h, _, _ in f.heartbeats}
    r["heartbeated"] = len(beats & set(run.hubs))
    r["heartbeats"] = len(f.heartbeats)
    r["records"] = len(f.records)
    r["repeats"] = sum(f.repeats.values())
    r["messages_per_s"] = round((len(f.heartbeats) + len(f.records)) / elapsed, 1)
    lat = []
    for h in run.pressed:
        for seq, _ in f.events(h, "panic"):
            lat.append((f.arrival(h, seq) - _pressed(run, h)) * 1000)
    r["panics_pressed"] = len(run.pressed)
    r["panics_stored"] = sum(len(f.events(h, "panic")) for h in run.hubs)
    return _latency(r, lat)


def _real(run, r, elapsed):
    f = run.fleet
    health = f.health()
    r["online"] = sum(1 for h in health.values() if h[0] == "online")
    r["heartbeated"] = sum(1 for h in health.values() if h[1] is not None)
    errors = {}  # the hubs' own last errors (uplink timeouts, ...): what to look at first
    for h in health.values():
        if h[3]:
            errors[h[3]] = errors.get(h[3], 0) + 1
    r["hub_errors"] = errors
    events, readings, packs = f.stored()
    r["events_stored"], r["readings_stored"], r["packs_stored"] = events, readings, packs
    msgs = f.messages() - run.messages_before
    r["messages"] = msgs
    r["messages_per_s"] = round(msgs / elapsed, 1)
    panics = f.panics()
    r["panics_pressed"] = len(run.pressed)
    r["panics_stored"] = sum(len(v) for v in panics.values())
    r["panics_stored_twice"] = sorted(h for h, v in panics.items() if len(v) > 1)
    lat = [(at - run.pressed_wall[h] - _pressed(run, h) + run.pressed[h]) * 1000
           for h, v in panics.items() if h in run.pressed_wall for at in v]  # fmt: skip
    return _latency(r, lat)
