"""Exercise checks of lesson 03 (the image encoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_int, call_answer, check_close, expect_function, fail, passed

__all__ = ["check_conv2d_valid", "check_max_pool", "check_image_encoder_params"]


def _reference_conv(image, kernel):
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1))  # (H-k+1, W-k+1, C, k, k)
    return np.einsum("ijcuv,uvc->ij", windows, kernel)


def check_conv2d_valid(conv2d_valid) -> None:
    """Exercise 1: one-filter 'valid' convolution (cross-correlation) in NumPy."""
    expect_function(conv2d_valid, "conv2d_valid", "conv2d_valid(image, kernel)")
    rng = np.random.default_rng(3)
    for size, k, channels in ((7, 3, 2), (6, 2, 3), (8, 3, 1)):
        image = rng.normal(size=(size, size + 1, channels)).astype(np.float32)
        kernel = rng.normal(size=(k, k, channels)).astype(np.float32)
        expected = _reference_conv(image, kernel)
        call = f"conv2d_valid(image {image.shape}, kernel {kernel.shape})"
        result = as_array(call_answer(conv2d_valid, call, image.copy(), kernel.copy()), call)
        if result.shape == image.shape[:2]:
            fail(
                "{call} has the input's size {shape}: that is a 'same' convolution",
                "without padding the output is (H - k + 1, W - k + 1)",
                call=call,
                shape=result.shape,
            )
        if result.shape == expected.shape and np.allclose(
            result, _reference_conv(image, kernel[::-1, ::-1]), atol=1e-4
        ):
            fail(
                "the kernel is flipped (that is the mathematical convolution)",
                "deep-learning layers compute a cross-correlation: multiply window and kernel as they are",
            )
        check_close(result, expected, call, atol=1e-4, hint="out[i, j] = sum(image[i:i+k, j:j+k, :] * kernel)")
    passed("your convolution matches the reference for 3 image and kernel sizes")


def check_max_pool(max_pool_2x2) -> None:
    """Exercise 2: 2x2 max pooling per channel, compared with keras MaxPooling2D."""
    import keras

    expect_function(max_pool_2x2, "max_pool_2x2", "max_pool_2x2(x)")
    rng = np.random.default_rng(4)
    for shape in ((6, 8, 3), (4, 2, 5)):
        x = rng.normal(size=shape).astype(np.float32)
        h, w, c = shape
        expected = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(2)(x[None]))[0]
        call = f"max_pool_2x2(x of shape {shape})"
        result = as_array(call_answer(max_pool_2x2, call, x.copy()), call)
        if result.shape == expected.shape and np.allclose(
            result, x.reshape(h // 2, 2, w // 2, 2, c).mean(axis=(1, 3)), atol=1e-5
        ):
            fail("that is average pooling", "take the maximum of each 2x2 window, not the mean")
        if result.shape == (h // 2, w // 2):
            fail(
                "the channels were pooled together: {call} has shape (H/2, W/2) = {shape}",
                "pool each channel separately",
                call=call,
                shape=result.shape,
            )
        check_close(result, expected, call, atol=1e-6, hint="x.reshape(H // 2, 2, W // 2, 2, C).max(axis=(1, 3))")
    passed("your pooling matches keras.layers.MaxPooling2D(2)")


def check_image_encoder_params(image_encoder_params) -> None:
    """Exercise 3: parameter count of ``ImageEncoder(filters, output_dim, residual=False)``."""
    from mmgen_lib.encoders import ImageEncoder

    expect_function(image_encoder_params, "image_encoder_params", "image_encoder_params(filters, output_dim)")
    for filters, output_dim in (((16, 32, 32), 64), ((8, 16, 16), 10), ((4, 8), 5)):
        encoder = ImageEncoder(filters, output_dim, residual=False)
        encoder.build((None, 32, 32, 3))
        expected = encoder.count_params()
        call = f"image_encoder_params({filters}, {output_dim})"
        got = as_int(call_answer(image_encoder_params, call, filters, output_dim), call)
        if got == expected:
            continue
        grid = 32 // 2 ** len(filters)
        dense_right = grid * grid * filters[-1] * output_dim + output_dim
        if got == expected - dense_right + filters[-1] * output_dim + output_dim:
            fail(
                "{call} is {got}: the Dense layer reads only filters[-1] numbers",
                "the flattened grid holds {grid} x {grid} x filters[-1] = {numbers} numbers",
                call=call,
                got=got,
                grid=grid,
                numbers=grid * grid * filters[-1],
            )
        if got == expected - sum(filters) - output_dim:
            fail(
                "{call} is {got}: the biases are missing",
                "each conv has one bias per filter, the Dense one per output",
                call=call,
                got=got,
            )
        fail(
            "{call} is {got}, expected {expected}",
            "conv: 3*3*in*out + out per stage (in = 3 for the first); Dense: (grid*grid*filters[-1]) * out + out; "
            "compute it from the arguments (each call has other sizes)",
            call=call,
            got=got,
            expected=expected,
        )
    passed("parameter counts match ImageEncoder(residual=False)")
