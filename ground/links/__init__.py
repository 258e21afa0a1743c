"""Ground-station links: the ground's own prediction, station monitors, carrier and handovers."""
