"""The ground archive: frames, a columnar parameter archive, the packet index, events, alarms,
commands and ingest state, on SQLite (default) or PostgreSQL. Open one with ``open_archive``."""

from ground.archive.base import (
    AlarmRecord,
    AlarmSeverity,
    AlarmState,
    Archive,
    ArchiveBatch,
    ArchiveError,
    Bucket,
    CommandRecord,
    EventRecord,
    FrameRecord,
    LastValue,
    PacketRecord,
    QuarantineRecord,
    SampleBlock,
    SampleChunk,
    SampleRow,
    frame_hash,
)
from ground.archive.csv_export import write_csv
from ground.archive.factory import DEFAULT_URL, open_archive

__all__ = [
    "DEFAULT_URL",
    "AlarmRecord",
    "AlarmSeverity",
    "AlarmState",
    "Archive",
    "ArchiveBatch",
    "ArchiveError",
    "Bucket",
    "CommandRecord",
    "EventRecord",
    "FrameRecord",
    "LastValue",
    "PacketRecord",
    "QuarantineRecord",
    "SampleBlock",
    "SampleChunk",
    "SampleRow",
    "frame_hash",
    "open_archive",
    "write_csv",
]
