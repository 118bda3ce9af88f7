# Stage 1 of the seed: pre-train fusion and pose head with placeholder
# encoders (pooling + one linear layer), then fine-tune with
# trimodal-odom_finetune-from-dummy_1xb2-5e_kitti.py.  The dummies have
# the real encoders' ``out_channels``, so fusion and head keys line up.
_base_ = './trimodal-odom_r18-pointnet-gru_1xb2-5e_kitti.py'
model = dict(
    encoders=dict(
        visual=dict(
            _delete_=True,
            type='DummyEncoder',
            modality='visual',
            out_channels=_base_.feat_channels),
        point=dict(
            _delete_=True,
            type='DummyEncoder',
            modality='point',
            out_channels=_base_.feat_channels),
        imu=dict(
            _delete_=True,
            type='DummyEncoder',
            modality='imu',
            out_channels=128)))
