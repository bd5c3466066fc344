from . import db  # noqa: F401 (its signals: each request and task starts having written nothing)
from .celery import app as celery_app

__all__ = ["celery_app"]
