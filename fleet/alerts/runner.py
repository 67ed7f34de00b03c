"""The alerts worker on the server's event loop: evaluates due rules, escalates alerts
whose level timed out and delivers the outbox, every settings.alerts_tick_s and at once
when telemetry opens an alert; once a minute it queues the morning summaries due.

    runner = AlertRunner(settings, engine)      # clock=utcnow by default
    await runner.start()                        # recovers rows a dead process left "sending"
    await runner.tick()                         # one round (tests call it with a clock)
    await runner.stop()

Rules and escalation run on the loop's thread, like the CoAP handlers that feed the same
cached engines; only the outbox's database work and the sends go to threads.
"""

import asyncio
import logging
from datetime import timedelta

from fleet import alerts
from fleet.alerts import engines, lifecycle, outbox, summary
from fleet.db import session
from fleet.models import utcnow

REPLAY_AT_START = timedelta(days=1)

log = logging.getLogger("fleet.alerts")


class AlertRunner:
    def __init__(self, settings, engine, clock=utcnow):
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self._wake = asyncio.Event()
        self._loop = None
        self._task = None
        self._summary_minute = None

    def wake(self):
        """Run a round now; safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self):
        self._loop = asyncio.get_running_loop()
        # Packs stored just before a crash may never have reached the rules: the first
        # round (or the first telemetry, whichever comes first) replays the last day.
        alerts.need_replay(self.clock() - REPLAY_AT_START)
        with session(self.engine) as db:
            again = outbox.recover(db)
        if again:
            log.warning("%d notifications were being sent when the server stopped", again)
        alerts.wakers.append(self.wake)
        self._task = asyncio.create_task(self._forever(), name="fleet alerts")

    async def tick(self, now=None):
        """Rules due, escalation due, outbox due; returns the number of messages sent."""
        now = now or self.clock()
        with session(self.engine) as db:
            if alerts.replay_since is not None:
                try:
                    alerts.replay(db)
                except Exception:  # escalation and delivery must go on regardless
                    log.exception("replaying telemetry to the rules failed; next round")
                    db.rollback()
            engines.evaluate_due(db, now)
            lifecycle.escalate_due(db, self.settings, now)
        minute = int(now.timestamp() // 60)
        if minute != self._summary_minute:  # summaries are due by the minute
            self._summary_minute = minute
            # Weeks of a flat's events per resident: off the loop, which serves CoAP.
            await asyncio.to_thread(self._summaries, now)
        return await outbox.deliver_due(self.engine, self.settings, now, self.clock)

    def _summaries(self, now):
        with session(self.engine) as db:
            summary.enqueue_due(db, self.settings, now)

    async def _forever(self):
        period = max(0.05, self.settings.alerts_tick_s)
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # a database hiccup must not end the alerts
                log.exception("alerts round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), period)
            except TimeoutError:
                pass

    async def stop(self):
        if self.wake in alerts.wakers:
            alerts.wakers.remove(self.wake)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
