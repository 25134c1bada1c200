"""Small programmable servers for fault tests (loopback only)."""
