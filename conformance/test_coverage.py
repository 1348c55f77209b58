"""Coverage: which seed operations the target implements at all."""
import pytest

from conformance.run import NOT_IMPLEMENTED


@pytest.mark.conformance(checks=["implemented"])
def test_implemented(operation, conformance):
    """The target answers the operation; one it does not implement is skipped and left out of the scores."""
    if conformance.implemented(operation):
        return
    answer = conformance.probe_answers.get(operation)
    pytest.skip(f"{NOT_IMPLEMENTED}: {operation} is not implemented by the target (a 500 without an AWS JSON "
                "error, 501, 404 or an UnknownOperation/NotImplemented error)"
                + (f"; its answer: {answer}" if answer else ""))
