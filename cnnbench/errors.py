"""Exceptions raised by cnnbench.

All derive from :class:`CnnbenchError`, itself a :class:`ValueError`, so callers can catch the
family or the specific case. Messages say what was wrong and what is allowed. The one warning,
:class:`TrainingWarning`, is for a run that completed but learnt nothing.
"""


class CnnbenchError(ValueError):
    """Base class of every error cnnbench raises for bad input."""


class DatasetError(CnnbenchError):
    """A dataset name, fraction, array or label set is invalid."""


class DataSourceError(CnnbenchError):
    """Data could not be read: missing/corrupt file, no network and no data folder."""


class ModelError(CnnbenchError):
    """An unknown model name or an invalid builder override."""


class InputShapeError(ModelError):
    """An input shape the requested model cannot take."""


class ConfigError(CnnbenchError):
    """An invalid training, study or benchmark setting."""


class TrainingWarning(UserWarning):
    """A training run finished but learnt nothing (see ``cnnbench.training.chance_warning``)."""
