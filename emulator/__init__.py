"""Run the unchanged hub firmware off the hub: hardware stand-ins, virtual time, flash,
network faults and power cuts. See emulator/README.md for the design."""
