"""The score every softmax of the model gives to what it must ignore (padded words, padded
pairs): one value for the attention layers, the DAMSM and its loss."""

# Far below any real score (its softmax weight is exactly 0 in float32), yet finite in float16
# (max 65504), so a fully masked row stays uniform, not NaN.
MASKED_SCORE = -3e4
