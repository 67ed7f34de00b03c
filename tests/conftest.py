"""Settings for the whole suite.

Hypothesis: no per-example deadline and no "too slow" health check. Both judge wall-clock
time, which on this 2-core machine depends on whatever else runs (one slow example is then
reported as Flaky or DeadlineExceeded and fails the run); speed is tests/bench's business.
Each test's own @settings (max_examples, ...) still applies on top of this profile.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("portineria", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("portineria")
