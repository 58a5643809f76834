"""Face alignment: a 5-point similarity transform onto the ArcFace template, and the crop.

The same as OpenCV's `FaceRecognizerSF.alignCrop` (Umeyama's least-squares similarity,
bilinear sampling, zero border), in numpy, so that no OpenCV is needed. Pixel coordinates
follow OpenCV: (0, 0) is the centre of the top-left pixel.
"""

from __future__ import annotations

import numpy as np

# Where the left eye, right eye, nose and mouth corners of a 112x112 ArcFace crop lie.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
ARCFACE_SIZE = 112


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity (rotation, uniform scale, translation) that maps `src` points
    onto `dst` points with the least squared error (Umeyama 1991)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    n = len(src)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / n
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var = (src_c**2).sum() / n
    scale = (s * d).sum() / var if var > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """`image` (h, w, 3) uint8 warped by the 2x3 `matrix` (source -> destination) into a
    (size, size, 3) uint8 crop: bilinear, black outside the image."""
    h, w = image.shape[:2]
    forward = np.vstack([matrix, [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(forward)[:2]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    sx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    sy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    # Pad by one black pixel on every side so that samples at the edge blend into black.
    padded = np.zeros((h + 2, w + 2, 3), dtype=np.float32)
    padded[1:-1, 1:-1] = image
    x0, y0 = np.clip(x0 + 1, 0, w + 1), np.clip(y0 + 1, 0, h + 1)
    x1, y1 = np.clip(x0 + 1, 0, w + 1), np.clip(y0 + 1, 0, h + 1)
    outside = (sx < -1) | (sx > w) | (sy < -1) | (sy > h)
    top = padded[y0, x0] * (1 - fx) + padded[y0, x1] * fx
    bottom = padded[y1, x0] * (1 - fx) + padded[y1, x1] * fx
    out = top * (1 - fy) + bottom * fy
    out[outside] = 0.0
    return np.rint(out).clip(0, 255).astype(np.uint8)


def arcface_crop(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 RGB crop of the face whose five landmarks (left eye, right eye, nose,
    left and right mouth corner, in pixels of `image`) are given."""
    matrix = similarity_transform(np.asarray(landmarks, dtype=np.float64), ARCFACE_TEMPLATE)
    return warp_affine(image, matrix, ARCFACE_SIZE)
