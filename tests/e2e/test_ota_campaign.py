"""Campaigns through the REAL fleet (emulator/otarun.py: fleet.ota, the CoAP `m`/`i`
resources, the campaign tick) to emulated hubs, each its own CPython process with real
UDP and OSCORE, behind a relay that loses 20 % of the datagrams each way.

- A campaign in waves (one canary, then 25 %, then all) ends "finished" with every hub
  "updated" — which the fleet says only after the new version heartbeated and sent
  readings. The canary has a relay of its own, without loss, and loses its link for a
  few seconds mid-download: it resumes from the blocks on its flash, and the fleet
  serves each block of the release once (the one in flight at the cut may come twice).
- A release that crashes at boot: the canary installs it, rolls back by itself and
  reports it; the campaign pauses by itself after that first wave, saying why, and no
  other hub is offered anything.

Scaling, so the module takes one to two minutes on this 2-core machine: 20 hubs (the
benchmark, tests/bench/bench_ota_campaign.py, runs 100), heartbeats and readings every
2 s, CoAP ACK_TIMEOUT 100 ms (at 30 ms a busy fleet's slower answers became resends that
loaded it further, and downloads failed on a loaded machine), the campaign tick every
0.5 s, and a release built from the sources without docstrings or comments (about 134 kB:
134 blocks of 1 KiB).
"""

import asyncio

import pytest
import pytest_asyncio

from emulator.otarun import OtaRun, lean

N = 20
CANARY = 0  # the first hub enrolled: the campaign's first wave (targets go by Hub.id)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("otarun")
    r = OtaRun(work / "run", N, loss=0.2, hb=2, rd=2, ack=100, seed=3, own_relay=(CANARY,))
    try:
        await r.start()
        assert await r.all_online("0.1.0", 120), r.versions()
        yield r
    finally:
        await r.stop()


def _why_not(run, s, want):
    """Which hubs' deployments are not in state `want`, and why, for a failure message."""
    return {
        h: (d.state, d.result, d.detail, run.hub_console(h, 600))
        for h, d in s["by_hub"].items()
        if d.state != want
    }


async def test_a_campaign_reaches_every_hub_through_loss_and_an_outage(run):
    fw, proto = lean(run.work / "good")
    rel, manifest, bundle = run.release("0.2.0", 2, fw, proto, trial=(2, 120))
    blocks = -(-len(manifest) // 1024) + -(-len(bundle) // 1024)
    cid = run.campaign(rel, waves=(1, 25, 100), name="through loss")
    canary = next(h for h, i in run.index.items() if i == CANARY)

    def served():
        return run.summary(cid)["by_hub"][canary].blocks

    assert await run.until(lambda: served() >= blocks // 2, 120, poll=0.1)
    run.outage(canary, 4.0)
    at_cut = served()
    await asyncio.sleep(4.5)
    s = await run.settled(cid, 300)
    assert s["campaign"].state == "finished", _why_not(run, s, "updated")
    assert s["counts"] == {"updated": N}, _why_not(run, s, "updated")
    assert all(v == "0.2.0" for v in run.versions().values())
    d = s["by_hub"][canary]
    # Resumed after the outage: only the missing blocks (one more at most, in flight).
    assert blocks <= d.blocks <= blocks + 1, (d.blocks, blocks, at_cut)
    assert at_cut < blocks and run.resets[canary] != []
    assert [w["updated"] for w in s["waves"]] == [w["hubs"] for w in s["waves"]]
    assert [w["hubs"] for w in s["waves"]] == [1, 4, N - 5]
    assert run.relay.stats["up_lost"] + run.relay.stats["down_lost"] > 1000
    # One reset per hub: into the new copy, which stayed.
    assert all(len(r) == 1 for r in run.resets.values()), run.resets
    gaps = run.monitoring_gaps()
    print(
        f"\n{N} hubs, bundle {len(bundle)} B, {blocks} blocks; canary served {d.blocks} "
        f"(outage after {at_cut}); monitoring lost per update (hub side) max "
        f"{max(gaps.values()):.1f} s; relay {dict(run.relay.stats)}"
    )
    assert len(gaps) == N and max(gaps.values()) < 60


async def test_a_release_that_crashes_at_boot_pauses_the_campaign_after_its_canary(run):
    before = run.versions()
    resets = {h: len(r) for h, r in run.resets.items()}
    broken = {"hub/app.py": 'raise RuntimeError("broken build")\n'}
    fw, proto = lean(run.work / "broken", replace=broken)
    rel, _, _ = run.release("0.3.0", 3, fw, proto, trial=(1, 60))
    cid = run.campaign(rel, name="broken")  # waves 1, 10, 50, 100
    s = await run.settled(cid, 180, states=("paused", "finished", "cancelled"))
    c = s["campaign"]
    assert c.state == "paused" and c.current_wave == 1, _why_not(run, s, "idle")
    assert c.paused_reason == "wave 1: 1 of 1 hubs failed"
    failed = [(h, d) for h, d in s["by_hub"].items() if d.state != "idle"]
    assert len(failed) == 1, _why_not(run, s, "idle")
    canary, d = failed[0]
    assert (d.wave, d.state, d.result) == (1, "failed", "rolled back")
    assert len(run.resets[canary]) - resets[canary] == 2  # into the new copy, and back
    # Every other hub untouched: never offered, nothing served, still on its version.
    await asyncio.sleep(2 * run.hb)
    s = run.summary(cid)
    assert s["campaign"].state == "paused"
    others = [d for h, d in s["by_hub"].items() if h != canary]
    assert len(others) == N - 1
    assert all(d.state == "idle" and d.offered_at is None and d.blocks == 0 for d in others)
    now = run.versions()
    assert now == before, {h: (before[h], v) for h, v in now.items() if before[h] != v}
    assert all(len(r) == resets[h] for h, r in run.resets.items() if h != canary)
