"""Domain types of the compute server: plain dataclasses, no gRPC."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

DEFAULT_TOP_K = 5
MAX_TOP_K = 100
DEFAULT_MIN_SIMILARITY = 0.5
DEFAULT_MIN_DETECTION_SCORE = 0.9
DEFAULT_MIN_FACE_SIZE = 40
MIN_FACE_SIZE_RANGE = (12, 4096)
MAX_PRIORITY = 9
MAX_REQUEST_ID = 128
# What replaces an erased person's id and name in job results, enrolment records and alerts.
ERASED_ID = "erased"
ERASED_NAME = "[erased]"


class JobState(enum.IntEnum):
    """Life of a job; numbers equal those of `facerec.v1.JobState`."""

    QUEUED = 1
    RUNNING = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobKind(enum.IntEnum):
    """What a job does; numbers equal those of `facerec.v1.JobKind`."""

    RECOGNIZE = 1
    ENROLL = 2
    REEMBED = 3  # the server's own: enrolled faces embedded again after a model change


class JobEventType(enum.IntEnum):
    """Why a job event was sent; numbers equal those of `facerec.v1.JobEventType`."""

    SNAPSHOT = 1
    STATE_CHANGED = 2
    FACES_DETECTED = 3


@dataclass(frozen=True)
class JobSpec:
    """What a client asked of a job, with defaults filled in."""

    collection: str = ""
    top_k: int = DEFAULT_TOP_K
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    min_detection_score: float = DEFAULT_MIN_DETECTION_SCORE
    min_face_size: int = 0  # pixels; 0: the server's setting
    priority: int = 0
    request_id: str = ""
    identity_id: str = ""
    face_ids: tuple[int, ...] = ()  # REEMBED: the gallery faces to embed again
    owner: str = ""  # id of the key whose holder submitted it ('' with keys off)

    @property
    def request_key(self) -> str:
        """The request id as stored: one per owner, so that keys never see each other's."""
        if not self.request_id or not self.owner:
            return self.request_id
        return f"{self.owner}/{self.request_id}"


@dataclass(frozen=True)
class ImageInfo:
    """The submitted photo as validated at submission."""

    width: int
    height: int
    format: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class Match:
    """One gallery face resembling a detected face."""

    identity_id: str
    name: str
    collection: str
    similarity: float
    face_id: int


@dataclass(frozen=True)
class Face:
    """One detected face; coordinates in pixels of the oriented photo."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]
    matches: tuple[Match, ...] = ()


class Fault(enum.IntEnum):
    """Whose fault a failure was; numbers equal those of `facerec.v1.JobFault`."""

    UNKNOWN = 0
    PHOTO = 1  # the photo or the request: sending it again changes nothing
    WORKER = 2  # a worker crashed, hung or answered wrongly: the photo is not to blame
    SERVER = 3  # the compute server itself: the photo is not to blame
    CALLER = 4  # someone cancelled the job or deleted what it needed


FAULTS = {
    "NO_FACE": Fault.PHOTO,
    "PHOTO_UNREADABLE": Fault.PHOTO,
    "WORKER_ERROR": Fault.WORKER,
    "WORKER_LOST": Fault.WORKER,
    "LEASE_EXPIRED": Fault.WORKER,
    "BAD_RESULT": Fault.WORKER,
    "NOT_CAPABLE": Fault.WORKER,
    "MODEL_MISMATCH": Fault.WORKER,  # a worker serving another model than it said
    "BAD_CROPS": Fault.SERVER,  # crops the coordinator cut wrong
    "COORDINATOR_ERROR": Fault.SERVER,
    "SPOOL_ERROR": Fault.SERVER,
    "PHOTO_MISSING": Fault.SERVER,
    "INTERRUPTED_TOO_OFTEN": Fault.SERVER,
    "CANCELLED": Fault.CALLER,
    "IDENTITY_DELETED": Fault.CALLER,
}
_BLAME = {Fault.WORKER: "a worker", Fault.SERVER: "the compute server"}


@dataclass(frozen=True)
class JobError:
    """Why a job failed: a stable code and a message for people."""

    code: str
    message: str

    @property
    def fault(self) -> Fault:
        if self.code == "ATTEMPTS_EXHAUSTED":
            # "… last: WORKER_LOST: …", as exhausted() writes it.
            last = self.message.partition("; last: ")[2].partition(":")[0]
            return FAULTS.get(last, Fault.WORKER)
        return FAULTS.get(self.code, Fault.UNKNOWN)

    def exhausted(self, attempts: int) -> JobError:
        """The error of a job that gave up after `attempts`, naming this last reason and
        who was to blame (retries happen only for failures that are not the photo's)."""
        who = _BLAME.get(self.fault, "something other than the photo")
        return JobError(
            "ATTEMPTS_EXHAUSTED",
            f"gave up after {attempts} attempts, each cut short by {who}, not by the photo"
            f"; last: {self.code}: {self.message}",
        )


def new_job_id() -> str:
    """A fresh, unguessable job id."""
    return "job_" + secrets.token_hex(10)


@dataclass(frozen=True)
class Enrollment:
    """Outcome of an enrolment job."""

    identity_id: str
    face_id: int = 0
    faces_in_photo: int = 0


@dataclass(frozen=True)
class Job:
    """A job as stored."""

    id: str
    kind: JobKind
    state: JobState
    spec: JobSpec
    image: ImageInfo
    created_at: float
    updated_at: float
    faces: tuple[Face, ...] = ()
    error: JobError | None = None
    model_id: str = ""
    attempt: int = 0
    version: int = 1
    enrollment: Enrollment | None = None


@dataclass(frozen=True)
class JobEvent:
    """A job as of one change."""

    type: JobEventType
    job: Job


@dataclass(frozen=True)
class Webhook:
    """An endpoint that receives a collection's alerts, signed with `secret`."""

    id: int
    url: str
    secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Collection:
    """A named set of identities; a watchlist when `alert_on_match`."""

    name: str
    description: str
    created_at: float
    identity_count: int = 0
    face_count: int = 0
    alert_on_match: bool = False
    alert_threshold: float | None = None  # None: the served model's default
    webhooks: tuple[Webhook, ...] = ()


@dataclass(frozen=True)
class AlertDraft:
    """A watchlist match found by a worker, not yet recorded."""

    collection: str
    identity_id: str
    name: str
    similarity: float
    box: tuple[float, float, float, float]
    face_index: int
    face_id: int = 0  # the enrolled face that matched best


@dataclass(frozen=True)
class Alert:
    """A recorded watchlist match; ids increase in recording order."""

    id: int
    created_at: float
    job_id: str
    collection: str
    identity_id: str
    name: str
    similarity: float
    box: tuple[float, float, float, float]
    face_index: int
    face_id: int = 0


class DeliveryState(enum.IntEnum):
    """Numbers equal those of `facerec.v1.DeliveryState`."""

    PENDING = 1
    DELIVERED = 2
    FAILED = 3


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of an alert to a webhook."""

    time: float
    status_code: int
    error: str
    duration_ms: int


@dataclass(frozen=True)
class Delivery:
    """One alert on its way to one webhook."""

    id: int
    alert_id: int
    url: str
    secret: str = field(repr=False)
    state: DeliveryState
    attempts: tuple[DeliveryAttempt, ...]
    next_attempt_at: float | None


@dataclass(frozen=True)
class GalleryFace:
    """One enrolled face."""

    id: int
    identity_id: str
    collection: str
    model_id: str
    source_job_id: str
    created_at: float


@dataclass(frozen=True)
class FaceCount:
    """How many faces of a collection one model embedded, and how many of those have a
    stored crop of the kind another model needs."""

    collection: str
    model_id: str
    faces: int
    with_crop: int


@dataclass(frozen=True)
class Identity:
    """One known person."""

    id: str
    collection: str
    name: str
    created_at: float
    face_count: int = 0
    faces: tuple[GalleryFace, ...] = field(default=())


class Role(enum.IntEnum):
    """What an API key may do; numbers equal those of `facerec.v1.KeyRole`."""

    ADMIN = 1
    USER = 2
    WORKER = 3
    METRICS = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class KeyKind(enum.IntEnum):
    """Numbers equal those of `facerec.v1.KeyKind`; LOGIN tokens are never listed."""

    KEY = 1
    SESSION = 2
    LOGIN = 3


@dataclass(frozen=True)
class ApiKey:
    """A key as stored (its secret only as a hash, elsewhere)."""

    id: str
    name: str
    role: Role
    kind: KeyKind
    created_at: float
    parent_id: str = ""
    expires_at: float | None = None
    revoked_at: float | None = None
    used_at: float | None = None

    @property
    def principal(self) -> str:
        """Whose work the key does: a session acts for the key that opened it."""
        return self.parent_id or self.id

    def usable(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
