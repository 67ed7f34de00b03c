# The application's version, reported in every heartbeat (key 5) and bumped by each release.
VERSION = "0.1.0"
