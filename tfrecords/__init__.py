"""The session-shard format (TFRecord SequenceExamples) and the dataset builders."""
