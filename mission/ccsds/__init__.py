"""CCSDS and PUS-C codecs: TM/TC transfer frames, Space Packets, CDS time, CLCW, CRC-16.

Standards: CCSDS 132.0-B-3 (TM frames), 232.0-B-4 (TC frames), 133.0-B-2 (Space Packets),
301.0-B-4 (time codes), ECSS-E-ST-70-41C (PUS-C).
"""

from mission.ccsds.clcw import Clcw
from mission.ccsds.crc import crc16
from mission.ccsds.errors import (
    CommandArgumentError,
    CrcError,
    EncodeError,
    FramingError,
    HeaderFieldError,
    LengthMismatchError,
    ProtocolError,
    TruncatedError,
    UnknownApidError,
    UnknownPacketError,
    UnknownSpacecraftError,
)
from mission.ccsds.framing import Extraction, PacketExtractor, Skipped, TmFrameReader, TmFrameWriter
from mission.ccsds.pus import (
    TcPacket,
    TmPacket,
    build_tc_packet,
    build_tm_packet,
    parse_tc_packet,
    parse_tm_packet,
)
from mission.ccsds.spacepacket import IDLE_APID, SpacePacketHeader, idle_packet
from mission.ccsds.tcframe import TcFrame, build_tc_frame, parse_tc_frame
from mission.ccsds.timecode import cds_pack, cds_unpack
from mission.ccsds.tmframe import TmFrame, build_tm_frame, parse_tm_frame

__all__ = [
    "IDLE_APID",
    "Clcw",
    "CommandArgumentError",
    "CrcError",
    "EncodeError",
    "Extraction",
    "FramingError",
    "HeaderFieldError",
    "LengthMismatchError",
    "PacketExtractor",
    "ProtocolError",
    "Skipped",
    "SpacePacketHeader",
    "TcFrame",
    "TcPacket",
    "TmFrame",
    "TmFrameReader",
    "TmFrameWriter",
    "TmPacket",
    "TruncatedError",
    "UnknownApidError",
    "UnknownPacketError",
    "UnknownSpacecraftError",
    "build_tc_frame",
    "build_tc_packet",
    "build_tm_frame",
    "build_tm_packet",
    "cds_pack",
    "cds_unpack",
    "crc16",
    "idle_packet",
    "parse_tc_frame",
    "parse_tc_packet",
    "parse_tm_frame",
    "parse_tm_packet",
]
