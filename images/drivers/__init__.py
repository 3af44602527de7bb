"""The only image code that touches files and runs qemu-img: the image store, the per-host
image cache and overlays, qemu-img itself."""
