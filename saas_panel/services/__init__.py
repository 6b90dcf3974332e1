"""Domain services: plain Python, no Reflex imports."""
