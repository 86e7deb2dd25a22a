"""On-the-fly data augmentation with Keras layers.

Replaces the original study's deprecated ``ImageDataGenerator``. The augmenter runs either over
whole batches in the ``tf.data`` pipeline (CPU) or as the first block of the model (GPU/TPU, so
augmentation happens on the accelerator); :func:`cnnbench.training.train` picks.

By default the rotation, shift, zoom and flip are fused into one random affine transform per
image (:class:`RandomAffine`), so each batch is resampled once instead of once per Keras layer
(``RandomRotation`` + ``RandomTranslation`` + ``RandomZoom`` + ``RandomFlip``): measured 4x
faster on a 2-core CPU (docs/performance.md). ``fused=False`` gives the plain layer stack.

The resampling (:func:`affine_resample`) is bilinear interpolation written with ``keras.ops``
gathers rather than ``keras.ops.image.affine_transform``: on TensorFlow that op is
``ImageProjectiveTransformV3``, which has no XLA kernel, so a model with the augmenter inside
could not be compiled with ``jit_compile=True`` (what Keras' ``"auto"`` picks on a GPU). The
gather version matches the op's output (same border rules for each ``fill_mode``) and compiles
under XLA on CPU, GPU and TPU. In ``tf.data`` on the CPU it costs about 1.4x the op's CPU time
per image (the 4x above was measured with the op; the fused layer stays about 2x faster than
the stack), which did not change CPU training throughput measurably.

Two more policies are :class:`RandomCropCutout`: a random crop of the reflect-padded image, a
horizontal flip where labels allow, then Cutout (one zeroed square per image).
``"crop_flip_cutout"`` (pad 4, an 8-pixel square) is the usual CIFAR recipe of recent
fast-training work; ``"flip_translate"`` (pad 2, no square) is airbench94's lighter one.
``build_augmenter(policy=...)`` picks among them (:data:`cnnbench.config.AUGMENT_POLICIES`,
settings in :data:`cnnbench.config.POLICY_SETTINGS`).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from cnnbench.checks import check_bool, is_int
from cnnbench.config import AUGMENT_POLICIES, AUGMENTATION, CROP_POLICIES
from cnnbench.data import AUGMENTATIONS
from cnnbench.errors import ConfigError

FILL_MODES = ("nearest", "constant", "reflect", "wrap")
"""``fill_mode`` values :class:`RandomAffine` supports (those of TensorFlow's affine transform)."""


def build_augmenter(
    augmentations=AUGMENTATIONS,
    *,
    policy: str = "original",
    rotation: float = AUGMENTATION["rotation"],
    translation: float = AUGMENTATION["translation"],
    zoom: float = AUGMENTATION["zoom"],
    fill_mode: str = AUGMENTATION["fill_mode"],
    pad: int | None = None,
    cutout: int | None = None,
    seed: int | None = None,
    fused: bool = True,
) -> keras.Layer:
    """Build the augmentation layer of ``policy`` for the named augmentations.

    Args:
        augmentations: names from :data:`AUGMENTATIONS`; pass ``dataset.augmentations`` so only
            label-preserving ones are used (no horizontal flips for digits).
        policy: one of :data:`~cnnbench.config.AUGMENT_POLICIES`. ``"original"``: the original
            study's rotation, shift, zoom and flip (:class:`RandomAffine`, or a stack of Keras
            layers with ``fused=False``). ``"crop_flip_cutout"`` and ``"flip_translate"``:
            :class:`RandomCropCutout`, a random crop of the reflect-padded image, a flip if
            ``"horizontal_flip"`` is among ``augmentations`` (the other names do not change
            it), then Cutout, with the policy's ``pad`` and ``cutout``
            (:data:`~cnnbench.config.CROP_POLICIES`).
        rotation: maximum rotation in degrees (``"original"``).
        translation: maximum shift as a fraction of height and width (``"original"``).
        zoom: maximum zoom in or out as a fraction (``"original"``).
        fill_mode: how pixels outside the input are filled (Keras ``fill_mode``; ``"original"``).
        pad: reflect padding in pixels before the random crop (the crop policies; ``None``:
            the policy's own).
        cutout: side in pixels of the zeroed square (the crop policies; 0 disables it,
            ``None``: the policy's own).
        seed: seeds the random draws so runs are repeatable.
        fused: one :class:`RandomAffine` (fast) instead of a stack of Keras layers; ``False``
            exists only for ``"original"``.

    Settings a policy does not use must keep their defaults (a ConfigError says so otherwise).
    The layers are active only when called with ``training=True``; at inference they pass
    images through unchanged. Inputs are float images in ``[0, 255]``.
    """
    if policy not in AUGMENT_POLICIES:
        raise ConfigError(f"unknown augment policy {policy!r}; valid: {list(AUGMENT_POLICIES)}")
    augmentations = tuple(augmentations)
    unknown = sorted(set(augmentations) - set(AUGMENTATIONS))
    if unknown:
        raise ConfigError(f"unknown augmentations {unknown}; valid: {list(AUGMENTATIONS)}")
    if not augmentations:
        raise ConfigError(f"augmentations is empty; pass at least one of {list(AUGMENTATIONS)}")
    if policy in CROP_POLICIES:
        given = {
            "rotation": rotation,
            "translation": translation,
            "zoom": zoom,
            "fill_mode": fill_mode,
        }
        changed = [name for name, value in given.items() if value != AUGMENTATION[name]]
    else:
        changed = [n for n, v in (("pad", pad), ("cutout", cutout)) if v is not None]
    if changed:
        raise ConfigError(
            f"augment policy {policy!r} does not use {changed}; leave them at their defaults"
        )

    if policy in CROP_POLICIES:
        if not fused:
            raise ConfigError(
                f"fused=False (a stack of Keras layers) exists only for augment policy "
                f"'original', not {policy!r}"
            )
        own = CROP_POLICIES[policy]
        return RandomCropCutout(
            pad=own["pad"] if pad is None else pad,
            cutout=own["cutout"] if cutout is None else cutout,
            horizontal_flip="horizontal_flip" in augmentations,
            seed=seed,
        )

    for name, value in (("rotation", rotation), ("translation", translation), ("zoom", zoom)):
        limit = 180.0 if name == "rotation" else 1.0
        if not 0.0 <= value < limit:
            raise ConfigError(f"{name} must be in [0, {limit:g}), got {value!r}")

    if fused:
        return RandomAffine(
            rotation=rotation if "rotation" in augmentations else 0.0,
            translation=translation if "translation" in augmentations else 0.0,
            zoom=zoom if "zoom" in augmentations else 0.0,
            horizontal_flip="horizontal_flip" in augmentations,
            fill_mode=fill_mode,
            seed=seed,
        )

    def layer_seed(i):
        return None if seed is None else seed + i

    stack = []
    # Order as in ImageDataGenerator: geometric transforms, then the flip.
    if "rotation" in augmentations and rotation > 0:
        stack.append(
            keras.layers.RandomRotation(rotation / 360.0, fill_mode=fill_mode, seed=layer_seed(0))
        )
    if "translation" in augmentations and translation > 0:
        stack.append(
            keras.layers.RandomTranslation(
                translation, translation, fill_mode=fill_mode, seed=layer_seed(1)
            )
        )
    if "zoom" in augmentations and zoom > 0:
        stack.append(keras.layers.RandomZoom(zoom, zoom, fill_mode=fill_mode, seed=layer_seed(2)))
    if "horizontal_flip" in augmentations:
        stack.append(keras.layers.RandomFlip("horizontal", seed=layer_seed(3)))
    return keras.Sequential(stack, name="augmentation")


@keras.saving.register_keras_serializable(package="cnnbench")
class RandomAffine(keras.layers.Layer):
    """Random rotation, shift, zoom and horizontal flip as one affine resampling per image.

    Draws, per image, an angle in ``[-rotation, rotation]`` degrees, a shift in
    ``[-translation, translation]`` of each side, independent zooms in ``[1 - zoom, 1 + zoom]``
    for width and height (as ``ImageDataGenerator`` does) and, if enabled, a mirror with
    probability 1/2; composes them into one matrix about the image centre and resamples once,
    bilinearly, with :func:`affine_resample` (XLA-compilable; same output as
    ``keras.ops.image.affine_transform``). Identity at inference.

    Takes channels-last batches ``(n, height, width, channels)`` of any size and channel count;
    float16/bfloat16 inputs (mixed precision) are resampled in float32 and returned in their
    own dtype. ``fill_mode`` is one of :data:`FILL_MODES` (pixels outside are filled with 0
    for ``"constant"``).
    """

    def __init__(
        self,
        rotation=0.0,
        translation=0.0,
        zoom=0.0,
        horizontal_flip=False,
        fill_mode="nearest",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if fill_mode not in FILL_MODES:
            raise ConfigError(f"fill_mode must be one of {list(FILL_MODES)}, got {fill_mode!r}")
        self.rotation, self.translation, self.zoom = rotation, translation, zoom
        self.horizontal_flip, self.fill_mode, self.seed = horizontal_flip, fill_mode, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        shape = ops.shape(images)
        n, height, width = shape[0], ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")

        def uniform(limit):
            return keras.random.uniform((n,), -limit, limit, seed=self.seed_generator)

        angle = uniform(math.radians(self.rotation))
        scale_x, scale_y = 1.0 + uniform(self.zoom), 1.0 + uniform(self.zoom)
        if self.horizontal_flip:
            coin = keras.random.uniform((n,), 0.0, 1.0, seed=self.seed_generator)
            scale_x = ops.where(coin < 0.5, -scale_x, scale_x)
        shift_x, shift_y = uniform(self.translation) * width, uniform(self.translation) * height
        # Output pixel p samples input A (p - c) + c + t, with A = rotation @ diag(sx, sy).
        cos, sin = ops.cos(angle), ops.sin(angle)
        a0, a1, b0, b1 = cos * scale_x, -sin * scale_y, sin * scale_x, cos * scale_y
        cx, cy = (width - 1) / 2, (height - 1) / 2
        a2 = cx - a0 * cx - a1 * cy + shift_x
        b2 = cy - b0 * cx - b1 * cy + shift_y
        transform = ops.stack([a0, a1, a2, b0, b1, b2], axis=1)  # affine: no c0, c1
        # Not ops.image.affine_transform: TensorFlow's ImageProjectiveTransformV3 has no XLA
        # kernel, so jit-compiled training with the augmenter in the model would fail.
        return affine_resample(images, transform, fill_mode=self.fill_mode)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rotation": self.rotation,
            "translation": self.translation,
            "zoom": self.zoom,
            "horizontal_flip": self.horizontal_flip,
            "fill_mode": self.fill_mode,
            "seed": self.seed,
        }


def check_crop_cutout(pad, cutout, height=None, width=None) -> None:
    """Arguments of :class:`RandomCropCutout`: ``pad`` and ``cutout`` are integers >= 0 and,
    for images of ``height`` x ``width`` (either may be ``None``, unknown), ``pad`` is smaller
    than the shorter side and ``cutout`` at most that side."""
    for name, value in (("pad", pad), ("cutout", cutout)):
        if not is_int(value, 0):
            raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    sides = [int(s) for s in (height, width) if s is not None]
    if not sides:
        return
    side = min(sides)
    if pad >= side:
        raise ConfigError(
            f"pad must be smaller than the images' shorter side ({side} pixels), got {pad}"
        )
    if cutout > side:
        raise ConfigError(
            f"cutout must be at most the images' shorter side ({side} pixels), got {cutout}"
        )


@keras.saving.register_keras_serializable(package="cnnbench")
class RandomCropCutout(keras.layers.Layer):
    """Random crop of the reflect-padded image, optional horizontal flip, then Cutout.

    Per image: an integer shift in ``[-pad, pad]`` pixels on each axis with ``"reflect"``
    filling (the same as reflect-padding by ``pad`` and cropping back to the input size at a
    random offset; ``"reflect"`` repeats the edge pixel, ``[dcba|abcd|dcba]``, i.e. NumPy's
    ``np.pad(mode="symmetric")``), and, if ``horizontal_flip``, a mirror with probability 1/2.
    Both are one :func:`affine_resample` call: integer shifts and the mirror about the centre
    land on pixel centres, so the bilinear sampling copies pixels exactly. Then one ``cutout``
    x ``cutout`` square at a uniformly random centre (any pixel of the image) is set to 0,
    clipped where it crosses the border (DeVries & Taylor 2017). ``pad=0`` disables the crop,
    ``cutout=0`` the Cutout. Identity at inference.

    Takes channels-last batches ``(n, height, width, channels)`` of any size and channel count;
    float16/bfloat16 inputs keep their dtype. Only ``keras.ops``: XLA-compilable.
    """

    def __init__(self, pad=4, cutout=8, horizontal_flip=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_crop_cutout(pad, cutout)
        check_bool("horizontal_flip", horizontal_flip)
        self.pad, self.cutout = int(pad), int(cutout)
        self.horizontal_flip, self.seed = horizontal_flip, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ConfigError(
                f"RandomCropCutout takes (n, height, width, channels) batches, got {input_shape}"
            )
        check_crop_cutout(self.pad, self.cutout, input_shape[1], input_shape[2])

    def call(self, images, training=True):
        if not training:
            return images
        shape = ops.shape(images)
        n, height, width = shape[0], shape[1], shape[2]
        if self.pad or self.horizontal_flip:
            images = affine_resample(images, self._crop_flip(n, width), fill_mode="reflect")
        if self.cutout:
            images = self._cutout(images, n, height, width)
        return images

    def _crop_flip(self, n, width):
        """``(n, 6)`` transforms: output ``(x, y)`` reads input ``(a0 x + a2, y + b2)``."""

        def shift():
            if not self.pad:
                return ops.zeros((n,), "float32")
            draw = keras.random.randint((n,), -self.pad, self.pad + 1, seed=self.seed_generator)
            return ops.cast(draw, "float32")

        shift_x, shift_y = shift(), shift()
        a0 = ops.ones((n,), "float32")
        if self.horizontal_flip:
            coin = keras.random.uniform((n,), 0.0, 1.0, seed=self.seed_generator)
            a0 = ops.where(coin < 0.5, -a0, a0)
        # Mirrored: x reads (width - 1) - x, the mirror about the centre, then the shift.
        a2 = ops.where(a0 < 0, ops.cast(width, "float32") - 1.0, 0.0) + shift_x
        zeros, ones = ops.zeros((n,), "float32"), ops.ones((n,), "float32")
        return ops.stack([a0, zeros, a2, zeros, ones, shift_y], axis=1)

    def _cutout(self, images, n, height, width):
        """Zero a ``cutout``-sided square per image, centred on a uniformly random pixel."""
        centre_y = keras.random.randint((n,), 0, height, seed=self.seed_generator)
        centre_x = keras.random.randint((n,), 0, width, seed=self.seed_generator)
        top = (centre_y - self.cutout // 2)[:, None, None]  # (n, 1, 1)
        left = (centre_x - self.cutout // 2)[:, None, None]
        rows = ops.arange(height, dtype="int32")[None, :, None]  # (1, H, 1)
        cols = ops.arange(width, dtype="int32")[None, None, :]  # (1, 1, W)
        inside_rows = ops.logical_and(rows >= top, rows < top + self.cutout)  # (n, H, 1)
        inside_cols = ops.logical_and(cols >= left, cols < left + self.cutout)  # (n, 1, W)
        square = ops.logical_and(inside_rows, inside_cols)[..., None]  # (n, H, W, 1)
        return ops.where(square, ops.zeros((), images.dtype), images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "pad": self.pad,
            "cutout": self.cutout,
            "horizontal_flip": self.horizontal_flip,
            "seed": self.seed,
        }


def _map_coordinates(coord, size, fill_mode):
    """Map float32 source coordinates into ``[0, size - 1]`` as TensorFlow's
    ``ImageProjectiveTransformV3`` does (tensorflow/core/kernels/image/image_ops.h, which follows
    scipy.ndimage), ``size`` being the axis length as a float. ``"constant"`` is left as is."""
    last = size - 1.0
    if fill_mode == "reflect":  # [abcd] -> [dcba|abcd|dcba]
        period = 2.0 * size
        below = period * ops.floor(-coord / period) + coord
        below = ops.where(below < -size, below + period, -below - 1.0)
        above = coord - period * ops.floor(coord / period)
        above = ops.where(above >= size, period - above - 1.0, above)
        coord = ops.where(coord < 0, below, ops.where(coord > last, above, coord))
    elif fill_mode == "wrap":  # [abcd] -> [abcd|abcd|abcd], with TensorFlow's rounding
        span = ops.maximum(last, 1.0)
        below = coord + size * (ops.floor(-coord / span) + 1.0)
        above = coord - size * ops.floor(coord / span)
        coord = ops.where(coord < 0, below, ops.where(coord > last, above, coord))
    elif fill_mode == "constant":
        return coord
    return ops.clip(coord, 0.0, last)


def affine_resample(images, transform, fill_mode="nearest"):
    """Bilinear ``keras.ops.image.affine_transform`` in plain ``keras.ops``, compilable by XLA.

    Args:
        images: a channels-last batch ``(n, height, width, channels)``.
        transform: ``(n, 8)`` vectors ``[a0, a1, a2, b0, b1, b2, c0, c1]`` as for
            ``affine_transform`` (one ``(8,)`` vector for all images also works): output pixel
            ``(x, y)`` takes the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``
            with ``k = c0 x + c1 y + 1``. ``(n, 6)`` vectors (no ``c0, c1``) are affine, ``k = 1``,
            and skip the division.
        fill_mode: one of :data:`FILL_MODES`; ``"constant"`` fills with zeros.

    Matches TensorFlow's ``ImageProjectiveTransformV3`` (to float32 rounding), including its
    border rules. Coordinates and weights are computed in float32 and the result is cast back
    to the dtype of ``images``. The four neighbours of each output pixel are gathered from the
    flattened, zero-padded batch, so it runs wherever gathers do (XLA on CPU, GPU, TPU).
    """
    if fill_mode not in FILL_MODES:
        raise ConfigError(f"fill_mode must be one of {list(FILL_MODES)}, got {fill_mode!r}")
    dtype = images.dtype
    shape = ops.shape(images)
    n, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    h, w = ops.cast(height, "float32"), ops.cast(width, "float32")
    size = transform.shape[-1]
    if size not in (6, 8):
        raise ConfigError(f"transform must have 6 or 8 parameters per image, got {size}")
    # One (m, 1, 1) column per parameter; m is n, or 1 for a shared transform.
    transform = ops.reshape(ops.cast(transform, "float32"), (-1, size, 1, 1))
    params = [transform[:, i] for i in range(size)]
    a0, a1, a2, b0, b1, b2 = params[:6]
    # The coordinates are sums of a row term (m, 1, W) and a column term (m, H, 1): computing
    # those and broadcasting keeps the full-size (n, H, W) work to a few ops.
    xs = ops.arange(width, dtype="float32")[None, None, :]
    ys = ops.arange(height, dtype="float32")[None, :, None]
    src_x = (a0 * xs + a1 * ys) + a2
    src_y = (b0 * xs + b1 * ys) + b2
    finite = None
    if size == 8:
        k = (params[6] * xs + params[7] * ys) + 1.0
        finite = ops.not_equal(k, 0.0)  # k == 0: a point at infinity, filled
        k = ops.where(finite, k, 1.0)
        src_x, src_y = src_x / k, src_y / k
    src_x = _map_coordinates(src_x, w, fill_mode)
    src_y = _map_coordinates(src_y, h, fill_mode)
    pad = 0
    if fill_mode == "constant":
        # Any coordinate may occur. As in TensorFlow each neighbour outside the image reads 0,
        # so points less than a pixel outside blend with it; beyond that everything is 0, so
        # clipping to [-1, size] changes nothing and keeps the integer casts in range. One
        # pixel of zero padding in front serves the neighbours at -1.
        pad = 1
        src_x, src_y = ops.clip(src_x, -1.0, w), ops.clip(src_y, -1.0, h)
    # Top-left neighbour, at most size - 1 so the bottom-right one is at most size: one pixel
    # of zero padding behind covers it, and a coordinate of exactly size - 1 (size, for
    # "constant") takes the full weight of the pixel it lies on.
    x0 = ops.minimum(ops.floor(src_x), w - 1.0)
    y0 = ops.minimum(ops.floor(src_y), h - 1.0)
    fx, fy = (src_x - x0)[..., None], (src_y - y0)[..., None]  # weights of right/lower pixels
    padded = ops.pad(ops.cast(images, "float32"), [(0, 0), (pad, pad + 1), (pad, pad + 1), (0, 0)])
    row = width + 2 * pad + 1
    pixels = ops.reshape(padded, (-1, channels))
    first = ops.arange(n, dtype="int32")[:, None, None] * ((height + 2 * pad + 1) * row)
    top_left = (first + pad * (row + 1)) + ops.cast(y0, "int32") * row + ops.cast(x0, "int32")
    p00 = ops.take(pixels, top_left, axis=0)  # (n, H, W, C)
    p01 = ops.take(pixels, top_left + 1, axis=0)
    p10 = ops.take(pixels, top_left + row, axis=0)
    p11 = ops.take(pixels, top_left + (row + 1), axis=0)
    top = p00 + fx * (p01 - p00)
    out = top + fy * ((p10 + fx * (p11 - p10)) - top)
    if finite is not None:
        out = ops.where(finite[..., None], out, 0.0)
    return ops.cast(out, dtype)
