"""The server's bounds: calls held at once, message size, deadlines, and what errors reveal."""

import os
import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from serving import client, contract
from tests.serving_testlib import (
    MODEL_NAME,
    edit_inputs,
    export_tiny,
    instrumented_model,
    running_server,
    wait_for,
)


def _edit(target: str, timeout_s: float, results: list, channel=None) -> None:
    own = channel is None
    channel = channel or client.make_channel(target, retry=False)
    try:
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs(), timeout_s)
        results.append("OK")
    except client.ServingClientError as error:
        results.append(error.code.name)
    finally:
        if own:
            channel.close()


def test_message_limit_covers_the_largest_request_the_contract_allows():
    largest_images = 3 * contract.MAX_PIXELS_PER_REQUEST  # uint8 RGB
    largest_texts = contract.MAX_BATCH_SIZE * 4 * contract.MAX_TEXT_CHARS
    assert contract.MAX_MESSAGE_BYTES >= largest_images + largest_texts + (1 << 20)
    assert contract.MAX_MESSAGE_BYTES <= largest_images + (8 << 20)  # no room for more


def test_a_message_over_the_limit_is_refused_before_it_is_read(tiny_export_base):
    # 53 MiB (5 MiB more than the largest images allowed), in an input the signature does not
    # have: validation would say INVALID_ARGUMENT; gRPC's own limit refuses it first.
    oversized = np.zeros(3 * contract.MAX_PIXELS_PER_REQUEST + (5 << 20), np.uint8)
    inputs = {**edit_inputs(), "padding": oversized}
    with running_server(tiny_export_base) as (_, target):
        channel = client.make_channel(target, max_message_bytes=2 * contract.MAX_MESSAGE_BYTES)
        with pytest.raises(client.ServingClientError) as raised:
            client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, inputs, 30.0)
        channel.close()
    assert raised.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in raised.value.details


def test_calls_beyond_the_bound_are_refused_with_resource_exhausted(tiny_export_base):
    with running_server(tiny_export_base, max_workers=1, max_concurrent_rpcs=2) as (server, target):
        with instrumented_model(server, delay_s=1.0) as calls:
            results: list[str] = []
            threads = [
                threading.Thread(target=_edit, args=(target, 20.0, results)) for _ in range(5)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert sorted(results) == ["OK", "OK"] + ["RESOURCE_EXHAUSTED"] * 3, results
    assert len(calls) == 2


def test_a_call_whose_deadline_passed_does_not_run_the_model(tiny_export_base):
    with running_server(tiny_export_base) as (server, target):
        # 0.6 s pass between the call's arrival and the model; its deadline is 0.3 s.
        with instrumented_model(server, resolve_delay_s=0.6) as calls:
            results: list[str] = []
            _edit(target, 0.3, results)
            time.sleep(0.6)  # the first call's handler reaches the model meanwhile
            _edit(target, 10.0, results)
    assert results == ["DEADLINE_EXCEEDED", "OK"]
    assert calls == [contract.EDIT_SIGNATURE]  # only the second call ran the model


def test_a_model_failure_names_what_failed_and_keeps_internals_in_the_log(tiny_export_base, caplog):
    secret = RuntimeError("/srv/secret/path/model.bin: inode 1234 corrupted")
    with running_server(tiny_export_base) as (server, target):
        with instrumented_model(server, error=secret):
            channel = client.make_channel(target)
            with pytest.raises(client.ServingClientError) as raised:
                client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
            channel.close()
        # The server goes on serving.
        results: list[str] = []
        _edit(target, 10.0, results)
    assert results == ["OK"]
    error = raised.value
    assert error.code == grpc.StatusCode.INTERNAL
    assert "the model failed on this edit request" in error.details
    for leak in ("secret", "RuntimeError", "inode", "Traceback"):
        assert leak not in error.details
    reference = error.details.rsplit("reference ", 1)[1].rstrip(")")
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and "inode 1234" in str(logged[0].exc_info[1])


def test_in_graph_check_messages_are_passed_on_without_graph_internals(tiny_export_base):
    from serving.services import model_check_message

    loaded = tf.saved_model.load(f"{tiny_export_base}/{MODEL_NAME}/1")
    tiny = np.zeros([1, 2, 2, 3], np.uint8)
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        loaded.signatures[contract.START_SIGNATURE](image=tf.constant(tiny))
    message = raised.value.message
    assert "node" in message or "Condition" in message  # what must not reach the client
    assert model_check_message(message) == f"image height must be >= {contract.MIN_IMAGE_SIDE}"
    assert model_check_message("some other failure at node foo/bar") is None


def test_a_failed_load_is_reported_to_clients_without_its_error_text(tmp_path, caplog):
    good = export_tiny(str(tmp_path / "staging"), version=1)
    broken = tmp_path / MODEL_NAME / "1"
    broken.mkdir(parents=True)
    with open(os.path.join(good, "saved_model.pb"), "rb") as f:  # variables missing
        (broken / "saved_model.pb").write_bytes(f.read())
    with running_server(str(tmp_path), wait_loaded=False) as (server, target):
        wait_for(
            lambda: [s.state for s in server.manager.statuses()] == ["END"], what="a failed load"
        )
        channel = client.make_channel(target)
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = MODEL_NAME
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        (status,) = stub.GetModelStatus(request, timeout=10).model_version_status
        channel.close()
    message = status.status.error_message
    assert message.startswith("failed to load (") and "server log" in message
    assert str(tmp_path) not in message
    assert any(str(tmp_path) in r.getMessage() for r in caplog.records)  # the log has it
