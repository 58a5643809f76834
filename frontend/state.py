"""What the app's blueprints share: config, the compute client and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from facerec.frontend.compute_client import ComputeClient
from facerec.frontend.config import FrontendConfig
from facerec.frontend.metrics import Metrics


@dataclass
class FrontendState:
    cfg: FrontendConfig
    compute: ComputeClient
    metrics: Metrics


def state() -> FrontendState:
    return current_app.extensions["facerec"]
