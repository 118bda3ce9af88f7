# Stage 2 of the seed: real encoders, fusion and pose head initialised
# from the dummy-encoder run (``--finetune_checkpoint``: ``load_from``);
# work_dir/load_report.json lists the loaded, missing and unexpected keys.
# The seed's example uses lr 5e-5 for fine-tuning.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
load_from = 'work_dirs/trimodal-odom_dummy-encoders_1xb2-5e_kitti/epoch_5.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-5))
