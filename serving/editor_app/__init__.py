"""The interactive editor web app (scripts/editor_app.py) over the project's gRPC client.

A person uploads an image or picks a test example, types edits turn by turn, sees the session
strip, each word's attention, branches from any turn and downloads the session. The app talks to
the model only through `serving.client` (TF Serving or serving/server.py), never in-process, and
imports nothing from `seqgan_tf`.
"""

from serving.editor_app.app import EditorApp
from serving.editor_app.backend import Backend, EditorError, split_words
from serving.editor_app.examples import ExampleSource
from serving.editor_app.server import EditorServer

__all__ = ["Backend", "EditorApp", "EditorError", "EditorServer", "ExampleSource", "split_words"]
