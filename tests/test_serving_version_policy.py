"""serving.version_policy: when a version folder is loaded, skipped or retried."""

import math

from serving.version_policy import next_failure, skip_reason

CONTENTS, OTHER = (("", 1),), (("", 2),)


def test_retries_back_off_then_wait_for_new_contents():
    first, when = next_failure(None, CONTENTS, OSError("bad"), 100.0, 2, 1.0, 60.0)
    assert (first.attempts, first.next_retry, when) == (1, 101.0, when)
    assert "retry 1 of 2 in 1.0s" in when
    second, _ = next_failure(first, CONTENTS, OSError("bad"), 101.0, 2, 1.0, 60.0)
    assert (second.attempts, second.next_retry) == (2, 103.0)  # the delay doubled
    third, when = next_failure(second, CONTENTS, OSError("bad"), 103.0, 2, 1.0, 60.0)
    assert math.isinf(third.next_retry) and "no more retries" in when
    fresh, _ = next_failure(third, OTHER, OSError("bad"), 104.0, 2, 1.0, 60.0)
    assert fresh.attempts == 1  # new contents restart the count


def test_skip_reasons():
    assert skip_reason(False, None, CONTENTS, None, 0.0, 5).startswith("skipped: no saved_model")
    assert skip_reason(True, None, CONTENTS, None, 0.0, 5) is None
    failure, _ = next_failure(None, CONTENTS, OSError("bad"), 10.0, 5, 1.0, 60.0)
    assert "retry 1 of 5" in skip_reason(True, failure, CONTENTS, CONTENTS, 10.5, 5)
    assert skip_reason(True, failure, CONTENTS, CONTENTS, 11.0, 5) is None  # due
    changing = skip_reason(True, failure, OTHER, CONTENTS, 10.5, 5)
    assert "contents changing" in changing
    assert skip_reason(True, failure, OTHER, OTHER, 10.5, 5) is None  # changed and settled
