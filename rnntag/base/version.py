"""The one version number of rnntag: the packaging reads it, model files are stamped with it."""

__version__ = "0.2.0"
