"""Test configuration shared by the suite."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a CI result is
# reproducible on any machine (and a failure replays exactly).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")
