"""SavedModel export of the editor for TF Serving and serving/server.py."""

from seqgan_tf.export.exporter import EditorExportModule, existing_versions, export_editor

__all__ = ["EditorExportModule", "existing_versions", "export_editor"]
