"""What the app's blueprints share: config, the compute client, metrics and event streams."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from facerec.frontend.compute_client import ComputeClient
from facerec.frontend.config import FrontendConfig
from facerec.frontend.event_stream import StreamHub
from facerec.frontend.metrics import Metrics


@dataclass
class FrontendState:
    cfg: FrontendConfig
    compute: ComputeClient
    metrics: Metrics
    streams: StreamHub


def state() -> FrontendState:
    return current_app.extensions["facerec"]
