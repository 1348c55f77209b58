"""Self-tests of workspaces-conformance."""
import botocore
import pytest

import specs


def installed_model_covers_contract() -> bool:
    """Whether the installed botocore's model is the contract's or newer (and so knows all it names)."""
    drift = specs.drift()
    return drift is None or drift.installed_is_newer


def skip_unless_installed_model_covers_contract() -> None:
    """Skip a self-test that holds the contract against botocore when the installed model is older."""
    if not installed_model_covers_contract():
        pytest.skip(f"the installed botocore {botocore.__version__} is older than the contract "
                    f"(botocore {specs.model_info()['botocore']}); this comparison needs the contract's model")
