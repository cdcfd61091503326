import os

from hypothesis import HealthCheck, settings

# Property tests: random examples on a laptop; the same examples on every CI run.
settings.register_profile("dev", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True,
                          max_examples=300, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
