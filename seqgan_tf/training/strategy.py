"""Picking the distribution strategy: multi-worker from TF_CONFIG, else all local GPUs, else CPU."""

from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "mirrored", "multi_worker", "default")


def split_cpu(num_devices: int) -> None:
    """Splits the CPU into `num_devices` logical devices; must run before TensorFlow starts."""
    if num_devices <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices
    )


def make_strategy(kind: str = "auto") -> tf.distribute.Strategy:
    """Returns the strategy to train under.

    auto: MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, else `mirrored`.
    mirrored: MirroredStrategy over all visible GPUs; without GPUs, over the logical CPU devices
      when there are several (see split_cpu), else the default one-device strategy.
    multi_worker: MultiWorkerMirroredStrategy (needs TF_CONFIG).
    default: the default strategy.
    """
    if kind not in STRATEGIES:
        raise ValueError(f"unknown strategy {kind!r}; expected one of {STRATEGIES}")
    if kind == "auto":
        kind = "multi_worker" if os.environ.get("TF_CONFIG") else "mirrored"
    if kind == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("strategy=multi_worker needs TF_CONFIG describing the cluster")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        cpus = tf.config.list_logical_devices("CPU")
        if len(cpus) > 1:
            return tf.distribute.MirroredStrategy([d.name for d in cpus])
    return tf.distribute.get_strategy()


def task_index() -> int:
    """This process's index in TF_CONFIG (0 without a cluster)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    return int(config.get("task", {}).get("index", 0))


def is_chief() -> bool:
    """True unless TF_CONFIG makes this process a non-chief worker."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    kind, index = task.get("type"), task.get("index", 0)
    if kind in (None, "chief"):
        return True
    return kind == "worker" and index == 0 and "chief" not in config.get("cluster", {})
