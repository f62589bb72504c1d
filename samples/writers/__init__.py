"""One module per language: `write_<language>(request)` turns a SampleRequest into the
sample's code (samples/languages.py lists them in the panel's order)."""
