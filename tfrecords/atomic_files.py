"""Moved to `common/atomic_files.py`. Kept only while `seqgan_tf/training/trainer.py` (being
changed elsewhere) still imports these three from here; import `common.atomic_files` instead."""

from common.atomic_files import (  # noqa: F401
    remove_temporaries,
    save_weights_atomically,
    write_json_atomically,
)
