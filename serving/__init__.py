"""Serving the exported editor: wire contract, gRPC client, TF-Serving-compatible server.

The client, the server and the modules below import nothing of the training package (seqgan_tf).

Modules:
    contract: signature / tensor names, dtypes and limits shared with the exporter.
    client: `EditSession` (start, edit, write_strip) and `predict`, `model_status`,
        `model_metadata` helpers; works against TF Serving and `server` alike.
    server: `ModelServer`, the project's own implementation of TF Serving's gRPC API
        (PredictionService Predict/GetModelMetadata, ModelService GetModelStatus, and
        grpc.health.v1 Health) for machines without a container engine.
    model_manager: loads the newest version folder(s), warms up every signature, hot-swaps
        new ones, retries failed ones, logs every decision.
    request_validation: request checks against a signature and the contract's limits.
    warmup: TF Serving warm-up files (one request per signature, via client.predict_request).
    strips: session strips for clients (and the project's one font lookup).
    configs/: models.config (ModelServerConfig) and batching.config for TF Serving.

Export, then serve locally (no container):

    python -m scripts.export --run_dir=runs/<run> --export_dir=exports --model_name=seqattngan
    python -m scripts.serve --model_base_path=exports/seqattngan --model_name=seqattngan
    python -m scripts.edit --server=127.0.0.1:8500 --image=shoe.png --out_dir=out/session

Production, with the official TensorFlow Serving container (Dockerfile at the repo root;
the build context holds only exports/ and serving/configs/, see .dockerignore):

    docker build -t seqattngan-serving .
    docker run --rm -p 127.0.0.1:8500:8500 -p 127.0.0.1:8501:8501 seqattngan-serving
    # hot-swap new exports without rebuilding: mount the model folder instead
    docker run --rm -p 127.0.0.1:8500:8500 \\
        -v "$PWD/exports/seqattngan:/models/seqattngan:ro" seqattngan-serving

The same `scripts.edit` / `serving.client` talks to either server. Notes for TF Serving:
its batching merges requests along the batch dimension, so all requests in a batch
must have the same image size (`EditSession` resizes the first image to the model
resolution for this reason); and TF Serving 2.20 links TensorFlow Text 2.20's ops, so
the in-graph tokenizer (NormalizeUTF8, CaseFoldUTF8, WhitespaceTokenizer) is servable
there; keep the tokenizer to tensorflow-text 2.20 ops. Bad input is refused by in-graph
checks there (INVALID_ARGUMENT), while the project's server checks requests before
running the model and also answers RESOURCE_EXHAUSTED for over-limit texts and images.
"""
