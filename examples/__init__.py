"""Examples of applications that use a deployed gpu-platform stack."""
