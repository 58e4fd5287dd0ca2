"""The lowest layer of the project: file helpers, the one-process file lock and the font lookup.

Shared by `tfrecords`, `seqgan_tf`, `serving` and `benchmarks`; it imports nothing of them.
"""
