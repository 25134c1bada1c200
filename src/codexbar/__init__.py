"""codexbar: where your AI-API money stands."""

__version__ = "0.1.0"
