# Fusion ablation: squeeze-and-excitation channel attention over the
# concatenated features, then the 1x1 compression.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

model = dict(fusion_neck=dict(mode='channel_attn'))
