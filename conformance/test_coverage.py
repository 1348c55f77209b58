"""Coverage: which seed operations the target implements at all."""
import pytest

from conformance.checks import CheckFailure
from conformance.client import reproduce_call


@pytest.mark.conformance(checks=["implemented"])
def test_implemented(operation, conformance):
    if conformance.implemented(operation):
        return
    raise CheckFailure(
        check="implemented",
        operation=operation,
        title="Operation not implemented",
        message=(
            f"Requests to {operation} were answered as not implemented (a 5xx without an AWS JSON "
            "error, 501, 404 or an UnknownOperation/NotImplemented error). The operation is listed "
            "under coverage and left out of the scores."
        ),
        rule=f"coverage.{operation}",
        source=f"botocore model: operation {operation}; seed client reference",
        reproduce=reproduce_call(conformance.target.connection, operation, {}),
    )
