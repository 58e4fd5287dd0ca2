"""Health before/after the first model, and a new version picked up under load with no failure."""

import threading

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from serving_testlib import (
    MODEL_NAME,
    call_in_process,
    edit_inputs,
    export_tiny,
    running_server,
    wait_for,
)

from serving import client, contract


def _health(channel, service=""):
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_health_not_serving_until_a_model_loads(tmp_path):
    with running_server(str(tmp_path), wait_loaded=False) as (server, target):
        channel = client.make_channel(target)
        assert _health(channel) == health_pb2.HealthCheckResponse.NOT_SERVING
        assert _health(channel, MODEL_NAME) == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(client.ServingClientError) as error:
            client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
        assert error.value.code == grpc.StatusCode.NOT_FOUND
        with pytest.raises(TimeoutError, match="not available"):
            client.wait_until_available(channel, MODEL_NAME, timeout_s=0.3)

        export_tiny(tmp_path)
        wait_for(
            lambda: _health(channel) == health_pb2.HealthCheckResponse.SERVING,
            what="SERVING",
        )
        assert _health(channel, MODEL_NAME) == health_pb2.HealthCheckResponse.SERVING
        assert client.wait_until_available(channel, MODEL_NAME, timeout_s=5) == 1
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
        channel.close()


def test_new_version_is_picked_up_without_failed_requests(tmp_path):
    export_tiny(tmp_path, version=1, offset=0.0)
    inputs = edit_inputs()
    with running_server(str(tmp_path)) as (server, target):
        channel = client.make_channel(target)
        seen: list[tuple[int, np.ndarray]] = []
        failures: list[BaseException] = []
        stop = threading.Event()

        def stream():
            while not stop.is_set():
                try:
                    outputs, version = client.predict(
                        channel, MODEL_NAME, contract.EDIT_SIGNATURE, inputs, timeout_s=30
                    )
                    seen.append((version, outputs[contract.STATE_OUTPUT]))
                except BaseException as error:
                    failures.append(error)

        thread = threading.Thread(target=stream)
        thread.start()
        try:
            wait_for(lambda: len(seen) >= 5, what="first responses")
            path2 = export_tiny(tmp_path, version=2, offset=0.5)  # while requests stream
            wait_for(lambda: seen[-1][0] == 2, what="responses from version 2")
            count = len(seen)
            wait_for(lambda: len(seen) >= count + 5, what="more version 2 responses")
        finally:
            stop.set()
            thread.join(timeout=60)

        assert failures == []
        versions = [v for v, _ in seen]
        assert versions[0] == 1
        switch = versions.index(2)
        assert set(versions[:switch]) == {1} and set(versions[switch:]) == {2}
        expected_v2 = call_in_process(tf.saved_model.load(path2), "edit", inputs)["state"]
        for _, state in seen[switch:]:
            np.testing.assert_allclose(state, expected_v2, atol=1e-6)
        assert not np.allclose(seen[0][1], expected_v2)  # the versions really differ

        assert client.model_status(channel, MODEL_NAME) == {1: "END", 2: "AVAILABLE"}
        assert client.model_status(channel, MODEL_NAME, version=2) == {2: "AVAILABLE"}
        # Pinning: the loaded version answers, the unloaded one is NOT_FOUND.
        _, version = client.predict(channel, MODEL_NAME, "edit", inputs, version=2)
        assert version == 2
        with pytest.raises(client.ServingClientError) as error:
            client.predict(channel, MODEL_NAME, "edit", inputs, version=1)
        assert error.value.code == grpc.StatusCode.NOT_FOUND
        channel.close()


def test_keeps_several_versions_and_skips_broken_ones(tmp_path):
    export_tiny(tmp_path, version=1)
    export_tiny(tmp_path, version=2, offset=0.5)
    with running_server(str(tmp_path), num_versions=2) as (server, target):
        wait_for(lambda: server.manager.available_versions() == [1, 2], what="two versions")
        channel = client.make_channel(target)
        for pinned in (1, 2):
            _, version = client.predict(channel, MODEL_NAME, "edit", edit_inputs(), version=pinned)
            assert version == pinned
        # A broken version folder is reported, not served, and does not stop the server.
        broken = tmp_path / MODEL_NAME / "3"
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
        wait_for(lambda: 3 in client.model_status(channel, MODEL_NAME), what="version 3 status")
        wait_for(
            lambda: client.model_status(channel, MODEL_NAME)[3] == "END", what="version 3 failed"
        )
        assert server.manager.available_versions() == [1, 2]
        _, version = client.predict(channel, MODEL_NAME, "edit", edit_inputs())
        assert version == 2
        channel.close()
