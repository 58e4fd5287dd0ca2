"""The client on a channel shared by many callers: every failure is a ServingClientError, one
call's failure leaves the others' calls alone, and the channel recovers from a restart."""

import threading
import time
from concurrent import futures

import grpc
import pytest
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from serving import client, contract
from tests.serving_testlib import (
    MODEL_NAME,
    edit_inputs,
    instrumented_model,
    running_server,
    wait_for,
)


def test_a_call_on_a_closed_channel_raises_the_clients_error():
    channel = client.make_channel("127.0.0.1:9")  # never connected
    channel.close()
    with pytest.raises(client.ServingClientError) as raised:
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs(), 1.0)
    assert raised.value.code == grpc.StatusCode.CANCELLED
    assert "closed on the client side" in raised.value.details
    with pytest.raises(client.ServingClientError):
        client.model_status(channel, MODEL_NAME, timeout_s=1.0)


def test_one_calls_failure_leaves_the_shared_channel_and_the_other_calls_alone(tiny_export_base):
    with running_server(tiny_export_base) as (server, target):
        channel = client.make_channel(target)
        with instrumented_model(server, delay_s=1.0):
            outcome: list = []

            def slow_edit():
                try:
                    client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
                    outcome.append("OK")
                except client.ServingClientError as error:
                    outcome.append(error.code.name)

            thread = threading.Thread(target=slow_edit)
            thread.start()
            time.sleep(0.3)  # the slow edit is in flight
            with pytest.raises(client.ServingClientError) as failed:
                client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs(), 0.05)
            thread.join()
        assert failed.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert outcome == ["OK"]
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
        channel.close()


def test_a_shared_channel_recovers_by_itself_after_a_restart(tmp_path, tiny_export_base):
    with running_server(tiny_export_base) as (server, target):
        channel = client.make_channel(target)
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs())
        port = server.port
    with pytest.raises(client.ServingClientError) as down:
        client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs(), 2.0)
    assert down.value.code == grpc.StatusCode.UNAVAILABLE
    with running_server(tiny_export_base, port=port):
        start = time.monotonic()

        def answers() -> bool:
            try:
                client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, edit_inputs(), 2.0)
                return True
            except client.ServingClientError:
                return False

        # wait_for_ready is off: the channel itself reconnects (backoff at most 1 s).
        wait_for(answers, timeout_s=10.0, what="the same channel to answer again")
        assert time.monotonic() - start < 3.0
    channel.close()


class _DropsFirstCalls(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Answers Predict with an empty response after dropping the first `drops` calls as a
    stopping gRPC server drops a call that reached no handler yet (CANCELLED)."""

    def __init__(self, drops: int):
        self.drops, self.calls = drops, 0

    def Predict(self, request, context):  # noqa: N802 (the gRPC method's name)
        self.calls += 1
        if self.calls <= self.drops:
            context.abort(grpc.StatusCode.CANCELLED, "CANCELLED")
        return predict_pb2.PredictResponse(model_spec=request.model_spec)


@pytest.mark.parametrize("retry", [True, False])
def test_a_call_the_server_dropped_as_cancelled_is_retried(retry):
    servicer = _DropsFirstCalls(drops=2)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = client.make_channel(f"127.0.0.1:{port}", retry=retry)
    try:
        if retry:
            outputs, _ = client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, {}, 10.0)
            assert outputs == {} and servicer.calls == 3
        else:
            with pytest.raises(client.ServingClientError) as raised:
                client.predict(channel, MODEL_NAME, contract.EDIT_SIGNATURE, {}, 10.0)
            assert raised.value.code == grpc.StatusCode.CANCELLED and servicer.calls == 1
    finally:
        channel.close()
        server.stop(None)
