"""Training: fault injection and scenarios for an instructor, checklist, score, debrief."""
