"""What anyone can see: home, lookup by code, health check, language switch."""
