"""The vehicles' physics: power, thermal, mobility, navigation, drill, instruments, comms."""
