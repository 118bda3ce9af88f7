# One backbone shared by the RGB and event streams (half the backbone
# parameters), concat fusion.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

model = dict(share_weights=True)
