"""Reading transcripts: a folder of files in any supported format → a Corpus."""

from themekit.ingest.corpus import (
    DEFAULT_INTERVIEWER_LABELS,
    MAX_FILE_BYTES,
    PARTICIPANTS_FILE,
    READERS,
    RESERVED_FILES,
    CorpusGatherer,
    Reader,
    TableColumns,
    apply_folder_roles,
    corpus_files,
    interviewer_notes,
    lacks_interviewer,
    read_corpus,
    read_participants,
    read_transcript,
    supported_extensions,
)

__all__ = [
    "CorpusGatherer",
    "DEFAULT_INTERVIEWER_LABELS",
    "MAX_FILE_BYTES",
    "PARTICIPANTS_FILE",
    "READERS",
    "RESERVED_FILES",
    "Reader",
    "TableColumns",
    "apply_folder_roles",
    "corpus_files",
    "interviewer_notes",
    "lacks_interviewer",
    "read_corpus",
    "read_participants",
    "read_transcript",
    "supported_extensions",
]
