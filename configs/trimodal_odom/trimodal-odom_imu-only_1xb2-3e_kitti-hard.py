# Hard-sample ablation: the IMU alone (no camera, no LiDAR, hence no
# registration prior), the same data, schedule and IMU encoder as
#   trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py
# The sample's IMU is the recorded KITTI IMU of the same drives; sequence 03
# has none and a few pairs of the others have no IMU sample between their
# frames: they are dropped (counted in the dataset report). In validation
# that is the last pair of 10 (frames 598-599): the model's 10 trajectory
# ends at frame 598, one pair short of the other models'.
_base_ = './trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-hard.py'
model = dict(
    encoders=dict(visual=None, point=None),
    # one modality: nothing to drop
    fusion=dict(_base_.concat_fusion, modality_dropout=0.0))
modality = dict(use_camera=False, use_lidar=False, use_imu=True)
# only the IMU steps of the base pipelines: no frames or clouds are read
imu_steps = ('NormalizeOdomIMU', 'PackOdomInputs')
train_pipeline, test_pipeline = ([
    step for step in pipeline if step['type'] in imu_steps
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
imu_dataset = dict(modality=modality, imu_missing='drop')
train_dataloader = dict(dataset=dict(imu_dataset, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(imu_dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
