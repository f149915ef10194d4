"""rnntag: recurrent sequence taggers (BiLSTM/BiGRU + CRF) for named-entity recognition.

Importing the package is cheap: torch is only imported by the modules that need it
(model, crf, train, ...), never by ``rnntag``, ``rnntag.conll``, ``rnntag.schemes``
or ``rnntag.cli`` at import time.
"""

__version__ = "0.1.0"

from rnntag.errors import (  # noqa: F401  (re-exported)
    ConfigError,
    DataError,
    ModelError,
    RnnTagError,
    UsageError,
)
