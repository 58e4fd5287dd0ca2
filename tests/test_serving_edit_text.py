"""serving.edit_text: one set of rules for an edit text, used by the server and the editor."""

import numpy as np
import pytest

from serving import edit_text
from serving.editor_app.backend import Backend, EditorError
from serving.request_validation import RequestLimits, ServingError, check_text


@pytest.mark.parametrize(
    "text, problem",
    [
        ("make it red", None),
        ("  \t", edit_text.EMPTY),
        ("x" * 13, edit_text.TOO_LONG),
        ("!!! ★", edit_text.NO_WORD),
        ("a\u200b", None),
        ("٣", None),
    ],
)
def test_text_problem(text, problem):
    assert edit_text.text_problem(text, max_chars=12) == problem


@pytest.mark.parametrize("text", ["", "!!! ★", "x" * 11])
def test_the_server_and_the_editor_refuse_the_same_texts(text):
    with pytest.raises(ServingError):
        check_text("text", np.array([text.encode()], object), RequestLimits(max_text_chars=10))
    backend = Backend("127.0.0.1:1", "m", max_text_chars=10)  # no call is made
    with pytest.raises(EditorError):
        backend.check_text(text)
