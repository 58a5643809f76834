"""The store interfaces: what the coordinator needs of durable state, whatever holds it.

Every implementation (SQLite today) passes the contract tests in `tests/store_contract.py`.
A mutation of a running job is fenced by its attempt number: a call for an attempt that no
longer holds the job changes nothing and returns None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np

from facerec.compute.domain import (
    Alert,
    AlertDraft,
    ApiKey,
    Collection,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Face,
    FaceCount,
    GalleryFace,
    Identity,
    ImageInfo,
    Job,
    JobError,
    JobKind,
    JobSpec,
    JobState,
    KeyKind,
    Webhook,
)
from facerec.compute.store.rules import UNCHANGED
from facerec.compute.tasks import CropKind

JobCursor = tuple[float, str]
IdentityCursor = tuple[str, str]


class JobStore(Protocol):
    """The durable job queue: jobs, their leases and their results."""

    def create(
        self, kind: JobKind, spec: JobSpec, image: ImageInfo, max_queued: int
    ) -> tuple[Job, bool]:
        """Queues a job; returns it and whether it is new (False: its request_id was seen).
        Raises ResourceExhausted when `max_queued` jobs are waiting."""
        ...

    def find_by_request_id(self, spec: JobSpec) -> Job | None:
        """The job its owner created with this spec's request id, if any."""
        ...

    def get(self, job_id: str) -> Job:
        """One job; NotFound when there is none."""
        ...

    def list(
        self,
        states: Iterable[JobState],
        page_size: int,
        after: JobCursor | None,
        owner: str | None = None,
    ) -> tuple[list[Job], JobCursor | None]:
        """A page of jobs in `states` (all when empty), of one owner (None: anyone's), newest
        first, and the cursor of the next page (None on the last)."""
        ...

    def count(self, state: JobState) -> int:
        """How many jobs are in `state`, without scanning them."""
        ...

    def claim(self, owner: str, lease_seconds: float) -> Job | None:
        """Leases the next queued job (highest priority, then oldest) to `owner` as a new
        attempt; None when the queue is empty."""
        ...

    def renew(self, held: list[tuple[str, int]], lease_seconds: float) -> int:
        """Extends the leases of (job id, attempt) pairs; returns how many were still held."""
        ...

    def record_faces(
        self, job_id: str, attempt: int, faces: tuple[Face, ...], model_id: str
    ) -> Job | None:
        """Stores the detected faces of a running job, before matching."""
        ...

    def succeed(
        self,
        job_id: str,
        attempt: int,
        faces: tuple[Face, ...],
        model_id: str,
        alerts: Sequence[AlertDraft] = (),
    ) -> tuple[Job, list[Alert]] | None:
        """Ends a recognition job SUCCEEDED and records its alerts (with their webhook
        deliveries) in the same transaction: no result exists without its alerts."""
        ...

    def succeed_enrollment(
        self,
        job_id: str,
        attempt: int,
        face: Face,
        model_id: str,
        embedding: np.ndarray,
        faces_found: int,
        crops: Mapping[CropKind, bytes] | None = None,
    ) -> tuple[Job, GalleryFace] | None:
        """Ends an enrolment job SUCCEEDED and adds its face, with its PNG `crops`, to the
        gallery in the same transaction. NotFound (and nothing changes) when the identity
        was deleted."""
        ...

    def succeed_reembedding(
        self,
        job_id: str,
        attempt: int,
        face_ids: tuple[int, ...],
        model_id: str,
        vectors: np.ndarray,
    ) -> tuple[Job, list[tuple[GalleryFace, GalleryFace]]] | None:
        """Ends a REEMBED job SUCCEEDED and gives its faces (those still enrolled) the new
        `model_id` vectors in the same transaction; returns each face before and after."""
        ...

    def active(self, kind: JobKind) -> list[Job]:
        """Queued and running jobs of one kind, oldest first."""
        ...

    def fail(self, job_id: str, attempt: int, error: JobError) -> Job | None:
        """Ends a running job FAILED for good (the photo, not the worker, is at fault)."""
        ...

    def retry(self, job_id: str, attempt: int, error: JobError, max_attempts: int) -> Job | None:
        """Returns a running job to the queue, or fails it once it has had `max_attempts`."""
        ...

    def cancel(self, job_id: str) -> Job:
        """Cancels a queued or running job; NotFound, or FailedPrecondition when finished."""
        ...

    def expire_leases(
        self, max_attempts: int, owner_prefix: str | None = None, max_interruptions: int = 10
    ) -> list[Job]:
        """Requeues (or fails, when out of attempts) running jobs whose lease lapsed; with
        `owner_prefix`, every running job of those owners, which a stopped server interrupted:
        those attempts are not charged, up to `max_interruptions` (then FAILED with
        INTERRUPTED_TOO_OFTEN). Returns the jobs changed."""
        ...

    def redact(self, identity_ids: set[str]) -> list[str]:
        """Replaces these identities in job results and enrolment records with ERASED_ID and
        ERASED_NAME; returns the photo hashes of their enrolment jobs."""
        ...

    def photo_in_use(self, sha256: str) -> bool:
        """Whether a queued or running job still needs the photo."""
        ...

    def active_photos(self) -> set[str]:
        """The photo hashes that queued or running jobs need."""
        ...


class GalleryStore(Protocol):
    """Known people: collections, identities and their enrolled faces (the source of truth
    that the FAISS index is derived from)."""

    def create_collection(
        self,
        name: str,
        description: str = "",
        alert_on_match: bool = False,
        alert_threshold: float | None = None,
        webhooks: tuple[tuple[str, str], ...] = (),
    ) -> Collection:
        """Creates a collection (a watchlist with `alert_on_match`, POSTing its alerts to
        `webhooks`, (url, secret) pairs; `alert_threshold` None: the served model's
        default). InvalidArgument, AlreadyExists."""
        ...

    def get_collection(self, name: str) -> Collection:
        """One collection with its webhooks; NotFound."""
        ...

    def list_collections(self) -> list[Collection]:
        """Every collection, by name."""
        ...

    def watchlists(self) -> list[Collection]:
        """The collections that raise alerts."""
        ...

    def delete_collection(self, name: str) -> tuple[list[str], list[GalleryFace]]:
        """Deletes a collection with its identities and faces; returns the identities' ids
        and the faces. NotFound when it does not exist."""
        ...

    def create_identity(self, collection: str, name: str) -> Identity:
        """Adds a person to a collection; NotFound when the collection does not exist."""
        ...

    def get_identity(self, identity_id: str) -> Identity:
        """One identity with its face ids; NotFound."""
        ...

    def list_identities(
        self, collection: str, page_size: int, after: IdentityCursor | None
    ) -> tuple[list[Identity], IdentityCursor | None]:
        """A page of a collection's identities by name, and the next page's cursor."""
        ...

    def delete_identity(self, identity_id: str) -> list[GalleryFace]:
        """Deletes an identity and its faces; returns the faces. NotFound."""
        ...

    def delete_face(self, face_id: int) -> GalleryFace:
        """Deletes one enrolled face; NotFound."""
        ...

    def purge(self) -> None:
        """After a deletion: leaves no copy of the deleted rows in the store's own files."""
        ...

    def update_collection(
        self,
        name: str,
        description: str | None = None,
        alert_on_match: bool | None = None,
        alert_threshold: object = UNCHANGED,
    ) -> Collection:
        """Changes the fields given; `alert_threshold` None goes back to the served model's
        default, and leaving it out leaves it. InvalidArgument when a collection with
        webhooks would stop being a watchlist."""
        ...

    def add_webhook(self, collection: str, url: str, secret: str) -> Webhook:
        """Adds an endpoint to a watchlist (InvalidArgument for another collection)."""
        ...

    def delete_webhook(self, collection: str, webhook_id: int) -> None:
        """Removes an endpoint; NotFound when the collection has no such webhook."""
        ...

    def face_crops(self, face_ids: list[int], kind: CropKind) -> dict[int, bytes]:
        """face id -> stored PNG crop of `kind`, for those of `face_ids` that have one."""
        ...

    def to_reembed(self, model_id: str, kind: CropKind) -> dict[str, list[int]]:
        """collection -> ids (ascending) of faces embedded by models other than `model_id`
        that have a stored crop of `kind`."""
        ...

    def face_counts(self, kind: CropKind) -> list[FaceCount]:
        """Faces per (collection, model id), with how many have a stored crop of `kind`."""
        ...

    def vectors(self, collection: str, model_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Face ids (int64, n) and embeddings (float32, n x d) of one (collection, model)."""
        ...

    def face_ids(self, collection: str, model_id: str) -> np.ndarray:
        """The face ids (int64, ascending) of one (collection, model)."""
        ...

    def index_keys(self) -> list[tuple[str, str]]:
        """Every (collection, model id) that has faces."""
        ...

    def models_of(self, collection: str) -> set[str]:
        """The model ids a collection's faces were embedded with."""
        ...

    def owners(self, face_ids: list[int]) -> dict[int, tuple[str, str, str]]:
        """face id -> (identity id, identity name, collection), for faces that still exist."""
        ...


class AlertStore(Protocol):
    """The durable alert log and its webhook deliveries (alerts are recorded by
    `JobStore.succeed`, with their job's result)."""

    def get(self, alert_id: int) -> Alert | None:
        """One alert, or None."""
        ...

    def after(
        self,
        after_id: int,
        collection: str,
        identity_id: str,
        limit: int,
        owner: str | None = None,
    ) -> list[Alert]:
        """Alerts with id > after_id, oldest first, optionally of one collection/identity
        and of the jobs of one owner."""
        ...

    def page(
        self,
        collection: str,
        identity_id: str,
        size: int,
        before_id: int | None,
        owner: str | None = None,
    ) -> tuple[list[Alert], int | None]:
        """Alerts newest first (filtered as `after`), and the cursor of the next page (None
        on the last)."""
        ...

    def redact(self, identity_ids: set[str]) -> int:
        """Replaces these identities in alerts with ERASED_ID and ERASED_NAME; how many."""
        ...

    def deliveries(self, alert_id: int) -> list[Delivery]:
        """The webhook deliveries of an alert; NotFound when the alert does not exist."""
        ...

    def due(self, now: float, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, soonest first."""
        ...

    def next_due(self) -> float | None:
        """When the next pending delivery is due (None: none pending)."""
        ...

    def record_attempt(
        self,
        delivery_id: int,
        attempt: DeliveryAttempt,
        state: DeliveryState,
        next_attempt_at: float | None,
    ) -> None:
        """Appends an attempt to a delivery and sets its state and next attempt time."""
        ...


class KeyStore(Protocol):
    """API keys, login tokens and browser sessions; secrets only as SHA-256 hashes."""

    def add(self, key: ApiKey, secret_hash: bytes) -> None:
        """Stores a new key."""
        ...

    def get(self, key_id: str) -> tuple[ApiKey, bytes] | None:
        """A key and its secret's hash, or None."""
        ...

    def list_keys(self, kinds: Sequence[KeyKind], include_revoked: bool) -> list[ApiKey]:
        """Keys of the given kinds, oldest first."""
        ...

    def revoke(self, key_id: str, now: float) -> tuple[ApiKey, int]:
        """Revokes a key and the sessions opened with it; the key and how many sessions.
        NotFound when there is no such key."""
        ...

    def redeem(self, key_id: str, now: float) -> bool:
        """Marks a login token used; False when it was used already (one use only)."""
        ...

    def count(self, kind: KeyKind) -> int:
        """How many keys of a kind exist, revoked ones included."""
        ...
