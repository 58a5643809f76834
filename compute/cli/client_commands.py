"""CLI commands over the gRPC API: enroll, recognize, jobs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
from tqdm import tqdm

from facerec.compute.cli import client, key_commands
from facerec.v1 import gallery_pb2, job_pb2
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import worker_service_pb2 as wpb

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
DEFAULT_TARGET = "127.0.0.1:50051"


def add_commands(sub: argparse._SubParsersAction) -> None:
    target_help = f"compute server address [FACEREC_TARGET; default: {DEFAULT_TARGET}]"

    def with_target(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--target", default=os.environ.get("FACEREC_TARGET", DEFAULT_TARGET), help=target_help
        )
        client.add_security_flags(p)
        return p

    enroll = with_target(
        sub.add_parser(
            "enroll", help="enrol people from a folder with one sub-folder of photos per person"
        )
    )
    enroll.add_argument("directory", type=Path)
    enroll.add_argument(
        "--collection",
        default="people",
        help="collection to enrol into (created when missing; default: people)",
    )
    enroll.set_defaults(func=run_enroll)

    rec = with_target(sub.add_parser("recognize", help="recognise faces in photos"))
    rec.add_argument("photos", nargs="+", type=Path)
    rec.add_argument("--collection", default="", help="collection to match (default: all)")
    rec.add_argument("--top-k", type=int, default=0)
    rec.add_argument("--min-similarity", type=float, default=None)
    rec.set_defaults(func=run_recognize)

    jobs = sub.add_parser("jobs", help="inspect jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    watch = with_target(jobs_sub.add_parser("watch", help="print a job's events until it ends"))
    watch.add_argument("job_id")
    watch.set_defaults(func=run_watch)

    model = with_target(
        sub.add_parser("model", help="show the served model and any gallery re-embedding")
    )
    model.set_defaults(func=run_model)

    workers = with_target(
        sub.add_parser("workers", help="list connected workers and the EMBED batch sizes")
    )
    workers.set_defaults(func=run_workers)

    key_commands.add_commands(sub, with_target)


def _fail(exc: grpc.RpcError) -> int:
    print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
    return 1


def _people(directory: Path) -> Iterator[tuple[str, list[Path]]]:
    for person in sorted(p for p in directory.iterdir() if p.is_dir()):
        photos = sorted(
            p for p in person.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
        )
        if photos:
            yield person.name, photos


def run_enroll(args: argparse.Namespace) -> int:
    if not args.directory.is_dir():
        print(f"error: {args.directory} is not a directory", file=sys.stderr)
        return 2
    people = list(_people(args.directory))
    if not people:
        print(f"error: {args.directory} has no sub-folders with photos", file=sys.stderr)
        return 2
    total = sum(len(photos) for _, photos in people)
    failed = 0
    with client.connect(args.target, client.security(args)) as api:
        try:
            api.ensure_collection(args.collection)
            job_ids = []
            for name, photos in people:
                identity = api.gallery.CreateIdentity(
                    gpb.CreateIdentityRequest(collection=args.collection, name=name),
                    timeout=client.DEADLINE,
                ).identity
                jobs = api.enroll(identity.id, photos)
                job_ids += [(name, photo, job.id) for photo, job in zip(photos, jobs, strict=True)]
            with tqdm(total=total, desc="enrolling", unit="photo", file=sys.stderr) as bar:
                for name, photo, job_id in job_ids:
                    job = api.wait(job_id)
                    if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                        failed += 1
                        tqdm.write(f"{name}/{photo.name}: {job.error.message}", file=sys.stderr)
                    bar.update(1)
        except grpc.RpcError as exc:
            return _fail(exc)
    print(
        f"enrolled {total - failed} of {total} photos of {len(people)} people"
        f" into {args.collection!r}"
    )
    return 1 if failed else 0


def run_recognize(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            for path in args.photos:
                spec = job_pb2.JobSpec(collection=args.collection, top_k=args.top_k)
                if args.min_similarity is not None:
                    spec.min_similarity = args.min_similarity
                job = api.wait(api.submit(path, spec).id)
                print(client.describe(path.name, job))
        except grpc.RpcError as exc:
            return _fail(exc)
        except OSError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


def run_watch(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            for event in api.watch(args.job_id):
                job = event.job
                kind = job_pb2.JobEventType.Name(event.type).removeprefix("JOB_EVENT_TYPE_")
                state = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_")
                print(f"{kind.lower():15} {state.lower():10} faces={len(job.faces)}", flush=True)
            print(client.describe(args.job_id, job))
        except grpc.RpcError as exc:
            return _fail(exc)
    return 0


def run_workers(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            listing = api.workers.ListWorkers(wpb.ListWorkersRequest(), timeout=10)
        except grpc.RpcError as exc:
            return _fail(exc)
    for w in listing.workers:
        print(
            f"{w.worker_id}  {','.join(w.capabilities)}  {w.peer}  in flight"
            f" {w.tasks_in_flight}/{w.max_tasks}  done {w.tasks_done}  failed {w.tasks_failed}"
            f"  ({w.runtime})"
        )
        if w.stage_seconds:
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(w.stage_seconds.items()))
            print(f"  time per stage: {stages}; {w.crops_embedded} crops embedded")
    if not listing.workers:
        print("no workers connected")
    sizes = ", ".join(f"{b.batch_size}: {b.count}" for b in listing.embed_batch_sizes)
    print(
        f"EMBED batches by size (max {listing.max_batch_size},"
        f" delay {listing.max_queue_delay_ms} ms): {sizes or 'none yet'};"
        f" {listing.embed_batches_across_jobs} mixed several jobs"
    )
    return 0


def run_model(args: argparse.Namespace) -> int:
    with client.connect(args.target, client.security(args)) as api:
        try:
            answer = api.gallery.GetModel(gpb.GetModelRequest(), timeout=10)
        except grpc.RpcError as exc:
            return _fail(exc)
    m = answer.model
    print(
        f"model {m.id}: {m.embedding_dim}-d, {m.runtime},"
        f" {'trained' if m.trained else 'UNTRAINED (recognises nobody)'};"
        f" default min_similarity {m.default_min_similarity:.2f},"
        f" alert threshold {m.default_alert_threshold:.2f}"
    )
    print(f"  {m.description}")
    for r in answer.reembeddings:
        state = gallery_pb2.ReembeddingState.Name(r.state).removeprefix("REEMBEDDING_STATE_")
        state = state.lower()
        print(
            f"collection {r.collection}: {r.faces_done}/{r.faces_total} faces embedded with"
            f" {m.id} (others from {', '.join(r.from_models)}): {state.replace('_', ' ')}"
        )
    if not answer.reembeddings:
        print("every enrolled face is embedded with this model")
    return 0
