"""The command link: validation, queue, release in view of a station, uplink, verification."""
