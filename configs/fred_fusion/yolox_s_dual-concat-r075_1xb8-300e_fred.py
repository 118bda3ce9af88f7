# Compression ablation: concat fusion keeping 75% of the concatenated
# channels (the neck's in_channels follow automatically).
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

model = dict(fusion_neck=dict(compression_ratio=0.75))
