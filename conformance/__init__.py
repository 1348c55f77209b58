"""workspaces-conformance: the conformance suite for the Amazon WorkSpaces API.

Run it with ``pytest conformance --endpoint URL``; see the README.
"""

# Exit statuses beside pytest's own (0 conformant, 1 deviations, 2 interrupted, 3 internal error,
# 4 usage error, 5 no tests ran): a run, a sweep or a report comparison that never reached its target.
EXIT_UNREACHABLE = 6
