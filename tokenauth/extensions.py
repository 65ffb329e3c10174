"""Extensions, created unbound here and bound to an app in ``create_app``."""
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class JsonApi(Api):
    """flask-smorest, with a ``message`` in every error body (SPEC 4), also for errors raised
    without one (405, an unknown route, a 500), and the error's own headers, such as the
    ``Allow`` of a 405, which flask-smorest drops. Each operation documents the errors it
    gives (api/openapi.py), not a catch-all ``default`` that any status would match."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        payload, status, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description)
        own = {name: value for name, value in error.get_headers()
               if name.lower() != "content-type"}
        return payload, status, {**own, **dict(headers or {})}


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = JsonApi()
csrf = CSRFProtect()
