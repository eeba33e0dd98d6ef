"""gpu-platform trainer: the TensorFlow training image's package."""
