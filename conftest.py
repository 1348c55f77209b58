"""Hypothesis profiles for the whole repository: ``ci``, ``dev`` and ``thorough``.

Pick one with ``--hypothesis-profile NAME`` or the ``HYPOTHESIS_PROFILE``
environment variable; ``dev`` is the default.
"""
import os

from hypothesis import Phase, settings

# The explain phase replays each failure many times to annotate it; against a
# remote endpoint every replay is a request, so only ``thorough`` runs it.
QUICK_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    database=None,
    phases=QUICK_PHASES,
)
settings.register_profile("dev", max_examples=50, deadline=None, print_blob=True, phases=QUICK_PHASES)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    print_blob=True,
    phases=list(Phase),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
