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
            f"Requests to {operation} were answered as not implemented (a 500 without an AWS JSON "
            "error, 501, 404 or an UnknownOperation/NotImplemented error). The operation is listed "
            "under coverage and left out of the scores."
            + (f" The last answer: {conformance.probe_answers[operation]}"
               if operation in conformance.probe_answers else "")
        ),
        rule=f"coverage.{operation}",
        source=f"botocore model: operation {operation}; seed client reference",
        reproduce=reproduce_call(conformance.target.connection, operation, {}),
    )
