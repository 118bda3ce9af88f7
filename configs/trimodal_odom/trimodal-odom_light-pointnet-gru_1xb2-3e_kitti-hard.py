# The demo model on the hard sample: swept LiDAR scans, cars driving
# through the scene, stretches where each sensor fails (listed in the
# sample's manifest):
#   python tools/misc/generate_kitti_sample.py data/kitti_hard --preset hard
#   python tools/dataset_converters/kitti_odom_converter.py data/kitti_hard \
#       --sequences 00,01,02,03,04,05,06,07,09,10,11,12,13 \
#       --stats-sequences 00,01,02,03,04,05,06,07
#   python tools/train.py <this config>
# Trains on stretches of 00-07, validates on the first 600 frames of 09 and
# 10; 11-13 have no poses (the self-supervised fine-tuning's data).
_base_ = ['./trimodal-odom_light-pointnet-gru_1xb2-3e_kitti-sample.py']

data_root = 'data/kitti_hard/'
train_sequences = '00,01,02,03,04,05,06,07'
val_sequences = '09,10'
imu_stats_file = data_root + 'infos/imu_stats.json'
# the sample's pipelines with this sample's IMU statistics
train_pipeline, test_pipeline = ([
    dict(step, stats_file=imu_stats_file)
    if step['type'] == 'NormalizeOdomIMU' else step for step in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        sequences=train_sequences,
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, sequences=val_sequences, pipeline=test_pipeline))
test_dataloader = val_dataloader
