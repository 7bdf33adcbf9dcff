"""The rules of the domain. Views and jobs call these; nothing else changes state."""
