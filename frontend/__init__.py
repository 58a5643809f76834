"""The thin Flask front end: HTTP in, gRPC to the compute server out; no models."""

from facerec.frontend.app import create_app

__all__ = ["create_app"]
