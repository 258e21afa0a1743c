"""On-board software: housekeeping, events, commanding with PUS 1 reports, modes and FDIR,
FARM/CLCW, storage and playback."""
