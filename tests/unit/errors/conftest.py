"""The error-group unit tests import their trace table (traces.py) from this folder."""
