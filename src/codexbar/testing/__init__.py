"""Test and demo helpers: a fake OpenRouter server that speaks the real API over loopback."""
