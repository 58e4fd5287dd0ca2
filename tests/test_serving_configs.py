"""The TF Serving container files: config protos parse and the Dockerfile agrees with them."""

import os
import re

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving import contract
from tests.batching_config_testlib import parse_batching_parameters

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts):
    with open(os.path.join(REPO, *parts)) as f:
        return f.read()


def _dockerfile():
    text = _read("Dockerfile").replace("\\\n", " ")
    lines = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", "\n".join(lines), re.M))
    copies = []
    for line in lines:
        if line.startswith("COPY "):
            source, destination = line.split()[1:3]
            source = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], source)
            copies.append((source, destination))
    return lines, copies


def test_model_config_parses():
    config = text_format.Parse(
        _read("serving", "configs", "models.config"), model_server_config_pb2.ModelServerConfig()
    )
    (model,) = config.model_config_list.config
    assert model.name == "seqattngan"
    assert model.model_platform == "tensorflow"
    assert model.model_version_policy.latest.num_versions == 1


def test_batching_config_parses():
    params = parse_batching_parameters(_read("serving", "configs", "batching.config"))
    assert params.max_batch_size.value >= 1
    assert params.num_batch_threads.value >= 1
    assert not params.pad_variable_length_inputs
    with pytest.raises(text_format.ParseError):
        parse_batching_parameters("max_batch_sise { value: 4 }")


def test_batching_config_takes_the_largest_batch_the_contract_allows():
    # TF Serving refuses a request larger than max_batch_size; the contract allows 64.
    params = parse_batching_parameters(_read("serving", "configs", "batching.config"))
    assert params.max_batch_size.value == contract.MAX_BATCH_SIZE


def test_dockerfile_agrees_with_configs():
    lines, copies = _dockerfile()
    assert lines[0] == "FROM tensorflow/serving:2.20.0" or any(
        line == "FROM tensorflow/serving:2.20.0" for line in lines
    )
    destinations = dict((os.path.basename(src.rstrip("/")), dst) for src, dst in copies)
    for source, _ in copies:
        if source.startswith("serving/"):
            assert os.path.exists(os.path.join(REPO, source)), source

    config = text_format.Parse(
        _read("serving", "configs", "models.config"), model_server_config_pb2.ModelServerConfig()
    )
    (model,) = config.model_config_list.config
    # The exported model folder is copied exactly to the config's base_path.
    model_copies = [(s, d) for s, d in copies if not s.startswith("serving/")]
    assert model_copies == [(f"exports/{model.name}", model.base_path)]

    command = " ".join(lines[[line.startswith("CMD") for line in lines].index(True)].split())
    assert f"--model_config_file={destinations['models.config']}" in command
    assert f"--batching_parameters_file={destinations['batching.config']}" in command
    for flag in ("--enable_batching", "--port=8500", "--rest_api_port=8501"):
        assert flag in command
    assert any(
        line.startswith("ENTRYPOINT") and "tensorflow_model_server" in line for line in lines
    )
