"""Collections, identities, enrolment and search over gRPC."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
from PIL import Image

from facerec.compute.cli.client import Api
from facerec.v1 import gallery_service_pb2 as gpb
from facerec.v1 import job_pb2
from tests.helpers import enroll_person, new_collection, reason, recognize, rpc_error


def test_collection_lifecycle(api: Api) -> None:
    name = new_collection(api)
    dup = rpc_error(api.gallery.CreateCollection, gpb.CreateCollectionRequest(name=name), timeout=5)
    assert dup.code() == grpc.StatusCode.ALREADY_EXISTS
    bad = rpc_error(
        api.gallery.CreateCollection, gpb.CreateCollectionRequest(name="UPPER"), timeout=5
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    names = [c.name for c in api.gallery.ListCollections(gpb.ListCollectionsRequest()).collections]
    assert name in names
    api.gallery.DeleteCollection(gpb.DeleteCollectionRequest(name=name), timeout=5)
    gone = rpc_error(
        api.gallery.DeleteCollection, gpb.DeleteCollectionRequest(name=name), timeout=5
    )
    assert gone.code() == grpc.StatusCode.NOT_FOUND


def test_deleting_an_identity_removes_its_vectors(api: Api, faces: Path) -> None:
    collection = new_collection(api)
    obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
    identity = api.gallery.GetIdentity(gpb.GetIdentityRequest(identity_id=obama)).identity
    assert identity.face_count == 1 and identity.faces[0].model_id == "facenet-untrained"
    before = recognize(api, faces / "obama.jpg", collection=collection, min_similarity=-1.0)
    assert before.faces[0].matches[0].identity_id == obama

    deleted = api.gallery.DeleteIdentity(gpb.DeleteIdentityRequest(identity_id=obama))
    assert deleted.deleted_faces == 1
    after = recognize(api, faces / "obama.jpg", collection=collection, min_similarity=-1.0)
    assert after.state == job_pb2.JOB_STATE_SUCCEEDED
    assert not after.faces[0].matches
    everywhere = recognize(api, faces / "obama.jpg", min_similarity=-1.0, top_k=100)
    assert all(m.identity_id != obama for m in everywhere.faces[0].matches)
    missing = rpc_error(api.gallery.GetIdentity, gpb.GetIdentityRequest(identity_id=obama))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


def test_delete_face(api: Api, faces: Path) -> None:
    collection = new_collection(api)
    obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
    face_id = (
        api.gallery.GetIdentity(gpb.GetIdentityRequest(identity_id=obama)).identity.faces[0].id
    )
    api.gallery.DeleteFace(gpb.DeleteFaceRequest(face_id=face_id))
    job = recognize(api, faces / "obama.jpg", collection=collection, min_similarity=-1.0)
    assert not job.faces[0].matches
    again = rpc_error(api.gallery.DeleteFace, gpb.DeleteFaceRequest(face_id=face_id))
    assert again.code() == grpc.StatusCode.NOT_FOUND


def test_search_faces_by_embedding(api: Api, faces: Path) -> None:
    collection = new_collection(api)
    obama = enroll_person(api, collection, "Obama", faces / "obama.jpg")
    rng = np.random.default_rng(0)
    vec = rng.normal(size=512).astype(np.float32)
    vec /= np.linalg.norm(vec)
    found = api.gallery.SearchFaces(
        gpb.SearchFacesRequest(
            collection=collection,
            embedding=vec.tolist(),
            model_id="facenet-untrained",
            min_similarity=-1.0,
        )
    )
    assert [m.identity_id for m in found.matches] == [obama]
    other = rpc_error(
        api.gallery.SearchFaces,
        gpb.SearchFacesRequest(
            collection=collection,
            embedding=vec.tolist(),
            model_id="facenet-vggface2",
        ),
    )
    assert other.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(other) == "MODEL_MISMATCH"
    # Across every collection too: no answer of "no matches" for another model's vector.
    anywhere = rpc_error(
        api.gallery.SearchFaces,
        gpb.SearchFacesRequest(embedding=vec.tolist(), model_id="facenet-vggface2"),
    )
    assert anywhere.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no collection holds faces embedded with 'facenet-vggface2'" in anywhere.details()
    unnormalised = rpc_error(
        api.gallery.SearchFaces,
        gpb.SearchFacesRequest(
            collection=collection,
            embedding=(vec * 3).tolist(),
            model_id="facenet-untrained",
        ),
    )
    assert unnormalised.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_enrolment_of_a_photo_without_a_face_fails_the_job(api: Api, tmp_path: Path) -> None:
    collection = new_collection(api)
    identity = api.gallery.CreateIdentity(
        gpb.CreateIdentityRequest(collection=collection, name="nobody")
    ).identity
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (10, 200, 10)).save(blank)
    (job,) = api.enroll(identity.id, [blank])
    done = api.wait(job.id)
    assert done.state == job_pb2.JOB_STATE_FAILED
    assert done.error.code == "NO_FACE"
    assert "no face" in done.error.message


def test_enrolment_is_all_or_nothing(api: Api, faces: Path, tmp_path: Path) -> None:
    collection = new_collection(api)
    identity = api.gallery.CreateIdentity(
        gpb.CreateIdentityRequest(collection=collection, name="x")
    ).identity
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    err = rpc_error(api.enroll, identity.id, [faces / "obama.jpg", bad])
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "photo 2 of 2" in err.details()
    got = api.gallery.GetIdentity(gpb.GetIdentityRequest(identity_id=identity.id)).identity
    assert got.face_count == 0
    unknown = rpc_error(api.enroll, "idn_missing", [faces / "obama.jpg"])
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


def test_list_identities_pages(api: Api) -> None:
    collection = new_collection(api)
    for name in ["carol", "alice", "bob"]:
        api.gallery.CreateIdentity(gpb.CreateIdentityRequest(collection=collection, name=name))
    names, token = [], ""
    while True:
        page = api.gallery.ListIdentities(
            gpb.ListIdentitiesRequest(collection=collection, page_size=2, page_token=token)
        )
        names += [i.name for i in page.identities]
        token = page.next_page_token
        if not token:
            break
    assert names == ["alice", "bob", "carol"]
    empty = rpc_error(
        api.gallery.CreateIdentity, gpb.CreateIdentityRequest(collection=collection, name="  ")
    )
    assert empty.code() == grpc.StatusCode.INVALID_ARGUMENT
