"""How the back office is run in production: the front server (nginx.conf, nginx.py) before the gunicorns."""
