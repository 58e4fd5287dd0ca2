"""Callbacks: validation strips every epoch, flat scalar logs, the run's state file, the latest
weights, weight snapshots every few epochs (for a figures-against-training-time table) and the
backup a killed run resumes from. Every file is written to a temporary name and renamed
(common/atomic_files.py), so a kill during a save leaves the previous file, never a
truncated one."""

from __future__ import annotations

import json
import os
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from common.atomic_files import (
    save_image_atomically,
    save_weights_atomically,
    write_json_atomically,
)
from seqgan_tf.visualization.strips import session_strips


def _scalar(value) -> float:
    return float(np.reshape(np.asarray(value), [-1])[0])


def validation_strip(model, batch: dict, title: str):
    """PIL image of `batch`'s sessions (pipeline layout, strings included) as `model` edits
    them turn by turn from x0 (its own outputs, zero noise): model row over truth row."""
    out = model.generate_session({"images": batch["images"], "descriptions": batch["descriptions"]})
    descriptions = [[t.decode("utf-8") for t in row] for row in batch["descriptions"].numpy()]
    return session_strips(
        batch["images"][:, 0].numpy(),
        out["images"].numpy(),
        descriptions,
        targets=batch["images"][:, 1:].numpy(),
        num_turns=batch["num_turns"].numpy().tolist(),
        title=title,
    )


class ValidationStrips(keras.callbacks.Callback):
    """Draws a few fixed validation sessions (model row over truth row) after every epoch, to
    `<out_dir>/epoch_NNN.png` and to TensorBoard."""

    def __init__(self, batch: dict, out_dir: str, tensorboard_dir: str | None = None):
        super().__init__()
        self.batch = {k: v for k, v in batch.items()}
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.writer = tf.summary.create_file_writer(tensorboard_dir) if tensorboard_dir else None

    def on_epoch_end(self, epoch, logs=None):
        strip = validation_strip(
            self.model, self.batch, f"epoch {epoch + 1}: validation sessions (model row, truth row)"
        )
        path = os.path.join(self.out_dir, f"epoch_{epoch + 1:03d}.png")
        save_image_atomically(strip, path)
        if self.writer is not None:
            with self.writer.as_default():
                tf.summary.image("validation_strips", np.asarray(strip)[None], step=epoch + 1)
            self.writer.flush()


class ScalarSummaries(keras.callbacks.Callback):
    """Writes every epoch log (rank-1 logs included) as a TensorBoard scalar."""

    def __init__(self, log_dir: str):
        super().__init__()
        self.writer = tf.summary.create_file_writer(log_dir)

    def on_epoch_end(self, epoch, logs=None):
        with self.writer.as_default():
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, _scalar(value), step=epoch + 1)
        self.writer.flush()


class TrainState(keras.callbacks.Callback):
    """Records epochs completed, both optimizers' iterations and, per epoch, the losses, the
    wall time and the learning rates in `<run_dir>/train_state.json`."""

    def __init__(self, path: str, start_time: float | None = None):
        super().__init__()
        self.path = path
        self.start = start_time or time.time()
        self.history: list[dict] = []
        if os.path.exists(path):
            with open(path) as f:
                self.history = json.load(f).get("epochs", [])
        self._offset = self.history[-1].get("elapsed_s", 0.0) if self.history else 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.history = [h for h in self.history if h["epoch"] < epoch + 1]
        # Wall time since the run began, summed over the processes that trained it (a resumed
        # process adds its own time to what the last recorded epoch had reached).
        elapsed = round(self._offset + time.time() - self.start, 1)
        self.history.append(
            {
                "epoch": epoch + 1,
                "elapsed_s": elapsed,
                # The rates of the epoch's last update (train.decay_share lowers them at the end).
                "g_learning_rate": _scalar(self.model.g_optimizer.learning_rate),
                "d_learning_rate": _scalar(self.model.d_optimizer.learning_rate),
                **{k: _scalar(v) for k, v in (logs or {}).items()},
            }
        )
        self.write(epoch + 1)

    def write(self, epochs_completed: int, complete: bool = False) -> None:
        state = {
            "epochs_completed": epochs_completed,
            "g_iterations": int(self.model.g_optimizer.iterations.numpy()),
            "d_iterations": int(self.model.d_optimizer.iterations.numpy()),
            "complete": complete,
            "wall_time_s_this_process": round(time.time() - self.start, 1),
            "epochs": self.history,
        }
        write_json_atomically(self.path, state)


class EpochSnapshots(keras.callbacks.Callback):
    """Saves `<dir>/epoch_NNN.weights.h5` every `every` epochs (0 = never), so that a run's
    figures can be measured against its training time after the fact."""

    def __init__(self, directory: str, every: int):
        super().__init__()
        self.directory, self.every = directory, every

    def on_epoch_end(self, epoch, logs=None):
        if self.every and (epoch + 1) % self.every == 0:
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.weights.h5")
            save_weights_atomically(self.model, path)


class LatestWeights(keras.callbacks.Callback):
    """Saves the weights after every epoch to one file (`checkpoints/latest.weights.h5`),
    atomically (keras.callbacks.ModelCheckpoint writes in place)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        save_weights_atomically(self.model, self.path)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras.callbacks.BackupAndRestore whose backup files are written atomically.

    Keras writes `latest.weights.h5` and `training_metadata.json` in place, so a kill during the
    save leaves a truncated file that the next run fails to load. Here both go through a
    temporary file: weights first, then the epoch count, so a kill between the two renames
    leaves the new weights with the previous epoch count (the resumed run repeats one epoch
    from the newer weights) and never an unreadable backup. A backup that does not fit the
    model is refused, where Keras would only warn and drop the optimizers' state.
    """

    def on_train_begin(self, logs=None):
        # Keras only warns when a backup's optimizer state does not fit the optimizer (e.g. a
        # different variable count) and then trains on from fresh moments and a zero update
        # count: refuse instead, naming the backup.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            super().on_train_begin(logs)
        for warning in caught:
            if "Skipping variable loading" in str(warning.message):
                raise ValueError(
                    f"the backup in {self.backup_dir} does not fit this model: "
                    f"{warning.message}. Resume it with the code and flags that wrote it."
                )
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        save_weights_atomically(self.model, self._weights_path)
        write_json_atomically(
            self._training_metadata_path,
            {"epoch": self._current_epoch, "batch": self._last_batch_seen},
        )
