"""Coverage: which seed operations the target implements at all."""
import pytest

from conformance.coverage import skip_not_implemented


@pytest.mark.conformance(checks=["implemented"])
def test_implemented(operation, conformance):
    """The target answers the operation; one it does not implement is skipped and left out of the scores."""
    if conformance.implemented(operation):
        return
    answer = conformance.probe_answers.get(operation)
    skip_not_implemented(operation, " (a 500 without an AWS JSON error, 501, 404 or an UnknownOperation/NotImplemented "
                         "error)" + (f"; its answer: {answer}" if answer else ""))
