"""FAISS indexes derived from the gallery's faces table."""

from facerec.index.gallery_index import FaceSource, GalleryIndex, SearchHit

__all__ = ["FaceSource", "GalleryIndex", "SearchHit"]
