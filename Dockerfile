# Production serving: the official TensorFlow Serving image with the exported editor.
#
#   python -m scripts.export --run_dir=runs/<run> --export_dir=exports --model_name=seqattngan
#   docker build -t seqattngan-serving .
#   docker run --rm -p 127.0.0.1:8500:8500 -p 127.0.0.1:8501:8501 seqattngan-serving
#
# To hot-swap versions without rebuilding, mount the model folder instead:
#   docker run --rm -p 127.0.0.1:8500:8500 \
#     -v "$PWD/exports/seqattngan:/models/seqattngan:ro" seqattngan-serving
FROM tensorflow/serving:2.20.0

ARG EXPORT_DIR=exports

# base_path in serving/configs/models.config is /models/seqattngan.
COPY ${EXPORT_DIR}/seqattngan /models/seqattngan
COPY serving/configs/models.config /models/models.config
COPY serving/configs/batching.config /models/batching.config

EXPOSE 8500 8501

ENTRYPOINT ["/usr/bin/tensorflow_model_server"]
CMD ["--model_config_file=/models/models.config", \
     "--enable_batching", \
     "--batching_parameters_file=/models/batching.config", \
     "--port=8500", \
     "--rest_api_port=8501"]
