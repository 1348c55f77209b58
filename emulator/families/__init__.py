"""The families of the WorkSpaces API beyond the seed operations, one module each.

Importing this package registers every family's handlers and seeders in
``emulator.operations``.
"""
from . import account, bundles, directories, images, network, pools, workspaces  # noqa: F401
