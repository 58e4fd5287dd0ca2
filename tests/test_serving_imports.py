"""Serving needs nothing of the training package (issue 11.4): importing the client or the
server loads no module of seqgan_tf. Checked in a fresh interpreter, since this test
process has long imported seqgan_tf."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = [
    "serving.client",  # first: the lightest, what a client application imports
    "serving.rpc",
    "serving.designs",
    "serving.signature_info",
    "serving.edit_text",
    "serving.strips",
    "serving.warmup",
    "serving.request_validation",
    "serving.version_loading",
    "serving.version_policy",
    "serving.version_memory",
    "serving.model_manager",
    "serving.services",
    "serving.call_drain",
    "serving.server",
]
_CODE = """
import importlib, json, sys
found = {}
for name in %r:
    importlib.import_module(name)
    found[name] = sorted(m for m in sys.modules if m == "seqgan_tf" or m.startswith("seqgan_tf."))
print(json.dumps(found))
"""


def test_serving_modules_load_no_training_module():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", _CODE % MODULES],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(found) == MODULES
    assert found == {name: [] for name in MODULES}
