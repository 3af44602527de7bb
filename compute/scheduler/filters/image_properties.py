from ..base import BaseFilter
from ..host_state import canonical_arch


class ImagePropertiesFilter(BaseFilter):
    """The image's `architecture` and `hypervisor_type` (or `hw_architecture`,
    `img_hv_type`) must match the host's cpu arch and hypervisor. An image that asks for
    nothing runs anywhere; a host that does not report its arch fails an image that asks."""

    def host_passes(self, host_state, spec) -> bool:
        props = spec.image_properties
        arch = canonical_arch(props.get("architecture") or props.get("hw_architecture"))
        hv_type = (props.get("hypervisor_type") or props.get("img_hv_type") or "").lower()
        if arch and arch != host_state.architecture:
            return False
        if hv_type and hv_type not in host_state.supported_hypervisor_types:
            return False
        return True
