"""The transforms that change a stage's base image or add stages.

Stage-split (DO202) adds a runtime stage on another image, slim-base (DO203) swaps an image
for a smaller variant, pin-base-tag (DO204) gives it a version tag. A transform that chooses
its commands by the image (its shell for DO109, its user tools for DO206) names these in its
`after`: the pipeline holds its changes back while any of them still changes the file, so
it sees the final base image. The engine knows the mechanism, not these rules.
"""

BASE_IMAGE_REWRITES = ("DO202", "DO203", "DO204")
