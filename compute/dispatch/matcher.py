"""Matching embeddings against the gallery: index search plus identity lookup."""

from __future__ import annotations

import numpy as np

from facerec.compute.domain import AlertDraft, GalleryFace, Match
from facerec.compute.errors import FailedPrecondition
from facerec.compute.models.catalog import ModelSpec
from facerec.compute.store.interfaces import GalleryStore
from facerec.index import GalleryIndex

# Nearest faces fetched per wanted identity, since one identity may own several faces.
_FACES_PER_IDENTITY = 4


class Matcher:
    """Best identities for each embedding; keeps the index in step with gallery changes."""

    def __init__(self, gallery: GalleryStore, index: GalleryIndex, served: ModelSpec) -> None:
        self.gallery = gallery
        self.index = index
        self.served = served

    def check_model(self, collection: str, model_id: str) -> None:
        """FAILED_PRECONDITION when a collection's faces were embedded by other models only;
        its message names the re-embedding that is under way, if any."""
        models = self.gallery.models_of(collection)
        if not models or model_id in models:
            return
        held = ", ".join(sorted(models))
        if model_id == self.served.id:
            counts = [
                c for c in self.gallery.face_counts(self.served.crop) if c.collection == collection
            ]
            if sum(c.with_crop for c in counts):
                raise FailedPrecondition(
                    f"collection {collection!r} holds faces embedded with {held}; they are being"
                    f" re-embedded for {model_id} from their stored crops (0 of"
                    f" {sum(c.faces for c in counts)} done): retry in a moment (GetModel shows"
                    " the progress)",
                    reason="REEMBEDDING",
                )
        raise FailedPrecondition(
            f"collection {collection!r} holds faces embedded with {held};"
            f" embeddings of {model_id!r} cannot be compared with them",
            reason="MODEL_MISMATCH",
        )

    def match(
        self,
        vectors: np.ndarray,
        model_id: str,
        collection: str,
        top_k: int,
        min_similarity: float,
    ) -> list[tuple[Match, ...]]:
        """For each vector, up to `top_k` identities (best face each), best first."""
        if len(vectors) == 0:
            return []
        collections = [collection] if collection else self.index.collections(model_id)
        hits: list[list[tuple[float, int]]] = [[] for _ in range(len(vectors))]
        k = top_k * _FACES_PER_IDENTITY
        for name in collections:
            for i, row in enumerate(self.index.search(name, model_id, vectors, k)):
                hits[i].extend((h.similarity, h.face_id) for h in row)
        owners = self.gallery.owners(sorted({fid for row in hits for _, fid in row}))
        out = []
        for row in hits:
            best: dict[str, Match] = {}
            for sim, fid in sorted(row, reverse=True):
                owner = owners.get(fid)
                if owner is None or sim < min_similarity or owner[0] in best:
                    continue
                best[owner[0]] = Match(owner[0], owner[1], owner[2], sim, fid)
                if len(best) == top_k:
                    break
            out.append(tuple(best.values()))
        return out

    def alerts(
        self, vectors: np.ndarray, model_id: str, boxes: list[tuple[float, float, float, float]]
    ) -> list[AlertDraft]:
        """One draft per (face, watchlist) whose best identity reaches the watchlist's threshold
        (the served model's default where the watchlist sets none)."""
        drafts = []
        for watchlist in self.gallery.watchlists():
            threshold = watchlist.alert_threshold
            if threshold is None:
                threshold = self.served.alert_threshold
            best = self.match(vectors, model_id, watchlist.name, 1, threshold)
            for index, found in enumerate(best):
                if found:
                    m = found[0]
                    drafts.append(
                        AlertDraft(
                            watchlist.name,
                            m.identity_id,
                            m.name,
                            m.similarity,
                            boxes[index],
                            index,
                            m.face_id,
                        )
                    )
        return drafts

    def added(self, face: GalleryFace, vector: np.ndarray) -> None:
        self.index.add(face.collection, face.model_id, np.array([face.id]), vector[None, :])

    def removed(self, faces: list[GalleryFace]) -> None:
        by_key: dict[tuple[str, str], list[int]] = {}
        for f in faces:
            by_key.setdefault((f.collection, f.model_id), []).append(f.id)
        for (collection, model_id), ids in by_key.items():
            self.index.remove(collection, model_id, ids)
