"""Settings and options: ``themekit.yaml`` (:mod:`.settings`) and how a corpus is coded (:mod:`.options`,
:class:`~themekit.config.options.CodingOptions`, imported from there so reading settings stays light)."""

from themekit.config.settings import (
    CONFIG_FILE,
    DEFAULT_PREVALENCE,
    EmbeddingSettings,
    ReportSettings,
    Settings,
    TranscriptSettings,
    load_settings,
)

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_PREVALENCE",
    "EmbeddingSettings",
    "ReportSettings",
    "Settings",
    "TranscriptSettings",
    "load_settings",
]
