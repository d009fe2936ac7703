"""The engine: lossless syntax tree, edits, pipeline, verification, diff and file runner."""
