"""workspaces-conformance: the conformance suite for the Amazon WorkSpaces API.

Run it with ``pytest conformance --endpoint URL``; see the README.
"""
