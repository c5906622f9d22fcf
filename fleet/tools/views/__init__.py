"""Views of the whole fleet: the review of its previews (and the gate on them) and its status."""
