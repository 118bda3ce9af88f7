# Fusion ablation: element-wise sum of the RGB and event features.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

model = dict(fusion_neck=dict(mode='add'))
