"""The SD fixtures (tiny_sd, sd_components) for the inpainting tests."""

from tests.sd.conftest import sd_components, tiny_sd  # noqa: F401
