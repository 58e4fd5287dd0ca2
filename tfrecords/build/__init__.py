"""Building session datasets from data that is not ours: a raw folder, or a public download.

- `input_report`: the report of bad input (a source's bad rows, a raw folder's skipped sessions);
- `source_spec`: what the source readers share (the problem kinds, the attribute specs);
- `ut_zap50k`, `deepfashion`: one reader per source format;
- `retrieval`: chains of neighbouring images, as the paper built its sessions;
- `descriptions`: generated or human descriptions of each turn;
- `source_build`: the whole build from a source (`build_from_source`);
- `raw_format`, `raw_folder`, `raw_images`, `raw_build`: a raw folder (the layout is in
  `raw_build`'s docstring): its format, the checks of its sessions, reading an
  image as a viewer shows it, and the build (`build_raw`).

`tfrecords.builders.build` chooses between these and the synthetic builder.
"""
